/**
 * The tokenizer for the SPL that Quay's `splunk` logs model sends. Whitespace only
 * separates tokens (Quay writes two spaces between `search` and `|` when there is
 * no filter). Tokens:
 *
 *   WORD   [A-Za-z0-9_.:*-]+        search, index, quay_logs, -_time, count, log_date…
 *   STRING "…" with \\ and \" as the only escapes (Quay's own escaping)
 *   OP     =  !=  |  ,  (  )
 */

export type Token =
  | { type: 'word'; text: string; pos: number }
  | { type: 'string'; text: string; pos: number }
  | { type: 'op'; text: '=' | '!=' | '|' | ',' | '(' | ')'; pos: number }
  | { type: 'end'; text: ''; pos: number };

/** SPL outside the supported templates; the message names what is not supported. */
export class UnsupportedSpl extends Error {
  constructor(detail: string) {
    super(`Unsupported SPL: ${detail}`);
  }
}

const WORD_CHAR = /[A-Za-z0-9_.:*-]/;

export function tokenize(spl: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < spl.length) {
    const c = spl[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= spl.length) throw new UnsupportedSpl(`the quoted value at position ${start} is not closed`);
        const d = spl[i]!;
        if (d === '"') break;
        if (d === '\\') {
          const next = spl[i + 1];
          if (next !== '\\' && next !== '"') {
            throw new UnsupportedSpl(`the escape \\${next ?? ''} at position ${i} (only \\\\ and \\" are supported)`);
          }
          text += next;
          i += 2;
        } else {
          text += d;
          i++;
        }
      }
      i++;
      out.push({ type: 'string', text, pos: start });
    } else if (c === '!' && spl[i + 1] === '=') {
      out.push({ type: 'op', text: '!=', pos: i });
      i += 2;
    } else if (c === '=' || c === '|' || c === ',' || c === '(' || c === ')') {
      out.push({ type: 'op', text: c, pos: i });
      i++;
    } else if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < spl.length && WORD_CHAR.test(spl[i]!)) i++;
      out.push({ type: 'word', text: spl.slice(start, i), pos: start });
    } else {
      throw new UnsupportedSpl(`the character "${c}" at position ${i}`);
    }
  }
  out.push({ type: 'end', text: '', pos: spl.length });
  return out;
}
