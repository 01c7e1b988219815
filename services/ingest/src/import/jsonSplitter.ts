/**
 * Cuts a JSON text that arrives in chunks into the values an importer wants, without
 * ever holding more than one of them (files may be many GB; `JSON.parse` of the whole
 * is never an option). Each value's text is handed out whole, for `JSON.parse`.
 *
 * The shape is found from the first bytes:
 * - `array`: one or more top-level arrays (log-rotation archives): each element;
 * - `export`: a top-level object whose first key is `export_id`, `details` or `logs`
 *   (Quay's export document): each member value, except that member arrays (`logs`)
 *   give each of their elements instead;
 * - `values`: a sequence of top-level objects (NDJSON): each of them.
 *
 * The structure is checked as it goes (brackets, commas, colons, strings); a file that
 * ends inside a value is reported as truncated. Offsets in errors count characters.
 */

export type JsonShape = 'array' | 'export' | 'values';

export interface JsonItem {
  /** The top-level member the value belongs to (`export` shape), e.g. `logs`. */
  key?: string;
  text: string;
  /** Character offset of the value's first character. */
  offset: number;
}

export class JsonShapeError extends Error {
  override name = 'JsonShapeError';
}

const EXPORT_KEYS = new Set(['export_id', 'details', 'logs']);

const OBJ = 0;
const ARR = 1;
// Object states
const O_FIRST = 0; // after '{': a key or '}'
const O_KEY = 1; // after ',': a key
const O_COLON = 2;
const O_VALUE = 3;
const O_NEXT = 4; // after a member: ',' or '}'
// Array states
const A_FIRST = 5; // after '[': a value or ']'
const A_VALUE = 6; // after ',': a value
const A_NEXT = 7; // after an element: ',' or ']'

const STRING_STOP = /["\\]/g;
const LITERAL = /[-+.0-9A-Za-z]/;

export class JsonSplitter {
  shape: JsonShape | null = null;
  private buf = '';
  /** Absolute offset of buf[0]. */
  private base = 0;
  /** Next index in buf to scan. */
  private i = 0;
  private readonly types: number[] = [];
  private readonly states: number[] = [];
  private inString = false;
  private stringIsKey = false;
  private escapePending = false;
  private keyStart = -1;
  private inLiteral = false;
  private literalStart = -1;
  private capStart = -1;
  private capDepth = -1;
  private capKey: string | undefined;
  private memberKey: string | undefined;
  private out: JsonItem[] = [];

  /** Feeds the next chunk; returns the values completed by it. */
  push(chunk: string): JsonItem[] {
    this.buf += chunk;
    this.scan();
    this.trim();
    const done = this.out;
    this.out = [];
    return done;
  }

  /** Ends the input; returns the last values, or throws when the text is incomplete. */
  end(): JsonItem[] {
    if (this.inLiteral) this.endLiteral(this.base + this.buf.length);
    if (this.inString) throw this.error('the file ends inside a string (truncated?)', this.base + this.buf.length);
    if (this.types.length > 0) {
      throw this.error(`the file ends inside ${this.types.length} unclosed JSON container(s) (truncated?)`, this.base + this.buf.length);
    }
    if (this.shape === null) throw new JsonShapeError('the file holds no JSON value');
    const done = this.out;
    this.out = [];
    return done;
  }

  private error(what: string, at: number): JsonShapeError {
    return new JsonShapeError(`${what} at character ${at}`);
  }

  private scan(): void {
    const s = this.buf;
    const n = s.length;
    let i = this.i;
    while (i < n) {
      if (this.escapePending) {
        this.escapePending = false;
        i++;
        continue;
      }
      if (this.inString) {
        STRING_STOP.lastIndex = i;
        const m = STRING_STOP.exec(s);
        if (m === null) {
          i = n;
          break;
        }
        if (m[0] === '\\') {
          if (m.index + 1 >= n) {
            this.escapePending = true;
            i = n;
            break;
          }
          i = m.index + 2;
          continue;
        }
        i = m.index + 1;
        this.inString = false;
        if (this.stringIsKey) this.endKey(this.base + i);
        else this.valueEnd(this.base + i);
        continue;
      }
      if (this.inLiteral) {
        while (i < n && LITERAL.test(s[i]!)) i++;
        if (i >= n) break;
        this.endLiteral(this.base + i);
        continue;
      }
      const c = s.charCodeAt(i);
      // whitespace, and a byte-order mark at the very start
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || (c === 0xfeff && this.base + i === 0)) {
        i++;
        continue;
      }
      const depth = this.types.length;
      const state = depth === 0 ? -1 : this.states[depth - 1]!;
      const at = this.base + i;
      switch (c) {
        case 0x22: // "
          if (state === O_FIRST || state === O_KEY) {
            this.inString = true;
            this.stringIsKey = true;
            this.keyStart = at;
          } else {
            this.valueStart(at, '"', depth, state);
            this.inString = true;
            this.stringIsKey = false;
          }
          break;
        case 0x7b: // {
        case 0x5b: // [
          this.valueStart(at, c === 0x7b ? '{' : '[', depth, state);
          this.types.push(c === 0x7b ? OBJ : ARR);
          this.states.push(c === 0x7b ? O_FIRST : A_FIRST);
          break;
        case 0x7d: // }
          if (state !== O_FIRST && state !== O_NEXT) throw this.error("unexpected '}'", at);
          this.types.pop();
          this.states.pop();
          this.valueEnd(at + 1);
          break;
        case 0x5d: // ]
          if (state !== A_FIRST && state !== A_NEXT) throw this.error("unexpected ']'", at);
          this.types.pop();
          this.states.pop();
          this.valueEnd(at + 1);
          break;
        case 0x2c: // ,
          if (state === O_NEXT) this.states[depth - 1] = O_KEY;
          else if (state === A_NEXT) this.states[depth - 1] = A_VALUE;
          else throw this.error("unexpected ','", at);
          break;
        case 0x3a: // :
          if (state !== O_COLON) throw this.error("unexpected ':'", at);
          this.states[depth - 1] = O_VALUE;
          break;
        default:
          if (!LITERAL.test(s[i]!)) throw this.error(`unexpected character ${JSON.stringify(s[i])}`, at);
          this.valueStart(at, s[i]!, depth, state);
          this.inLiteral = true;
          this.literalStart = at;
          i++;
          continue;
      }
      i++;
    }
    this.i = i;
  }

  private valueStart(at: number, first: string, depth: number, state: number): void {
    if (depth > 0 && state !== O_VALUE && state !== A_FIRST && state !== A_VALUE) {
      throw this.error(`unexpected ${JSON.stringify(first)}`, at);
    }
    if (depth === 0) {
      if (this.shape === null) {
        if (first === '[') this.shape = 'array';
        else if (first === '{') this.capture(at, 0, undefined); // undecided until its first key
        else throw new JsonShapeError(`the file does not start with a JSON object or array (found ${JSON.stringify(first)})`);
      } else if (this.shape === 'array') {
        if (first !== '[') throw this.error('expected another JSON array', at);
      } else if (this.shape === 'values') {
        if (first !== '{') throw this.error('expected one JSON object per line', at);
        this.capture(at, 0, undefined);
      } else {
        throw this.error('unexpected data after the export document', at);
      }
      return;
    }
    if (this.capStart >= 0) return; // inside a captured value
    if (depth === 1) {
      if (this.shape === 'array') this.capture(at, 1, undefined);
      else if (this.shape === 'export' && first !== '[') this.capture(at, 1, this.memberKey);
    } else if (depth === 2 && this.shape === 'export' && this.types[1] === ARR) {
      this.capture(at, 2, this.memberKey);
    }
  }

  private capture(at: number, depth: number, key: string | undefined): void {
    this.capStart = at;
    this.capDepth = depth;
    this.capKey = key;
  }

  private valueEnd(endAt: number): void {
    const depth = this.types.length;
    if (this.capStart >= 0 && this.capDepth === depth) {
      const text = this.buf.slice(this.capStart - this.base, endAt - this.base);
      this.out.push(this.capKey === undefined ? { text, offset: this.capStart } : { key: this.capKey, text, offset: this.capStart });
      this.capStart = -1;
      this.capDepth = -1;
    }
    if (depth > 0) this.states[depth - 1] = this.types[depth - 1] === OBJ ? O_NEXT : A_NEXT;
  }

  private endLiteral(endAt: number): void {
    this.inLiteral = false;
    this.literalStart = -1;
    this.valueEnd(endAt);
  }

  private endKey(endAt: number): void {
    const depth = this.types.length;
    this.states[depth - 1] = O_COLON;
    if (depth === 1 && this.shape !== 'values') {
      const raw = this.buf.slice(this.keyStart - this.base, endAt - this.base);
      let key: string;
      try {
        key = JSON.parse(raw) as string;
      } catch {
        throw this.error('invalid object key', this.keyStart);
      }
      this.memberKey = key;
      if (this.shape === null) {
        if (EXPORT_KEYS.has(key)) {
          this.shape = 'export';
          this.capStart = -1;
          this.capDepth = -1;
        } else {
          this.shape = 'values';
        }
      }
    }
    this.keyStart = -1;
  }

  /** Drops the text no pending value needs any more. */
  private trim(): void {
    let keep = this.base + this.i;
    if (this.capStart >= 0) keep = Math.min(keep, this.capStart);
    if (this.keyStart >= 0) keep = Math.min(keep, this.keyStart);
    if (this.literalStart >= 0) keep = Math.min(keep, this.literalStart);
    const drop = keep - this.base;
    if (drop <= 0) return;
    this.buf = this.buf.slice(drop);
    this.base = keep;
    this.i -= drop;
  }
}
