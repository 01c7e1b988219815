/**
 * A recursive-descent parser for exactly the SPL that Quay's `splunk` logs model builds
 * (data/logs_model/splunk_logs_model.py and splunk_search_client.py in Quay). Grammar,
 * over the tokens of tokens.ts:
 *
 *   query    := "search" [ "index" "=" WORD ] term* pipeline END
 *   term     := ("account" | "performer" | "repository") "=" STRING
 *             | "kind" "!=" STRING
 *   pipeline := ε                                          -- events (Quay's export)
 *             | "|" "sort" "-_time"                         -- events, newest first (pages)
 *             | "|" "stats" "count"                         -- one row: the count
 *             | "|" "eval" "log_date" "=" "strftime" "(" "_time" "," "%Y-%m-%d" ")"
 *               "|" "stats" "count" "by" "kind" "," "log_date"   -- the aggregate chart
 *
 * Each equality field appears at most once; `kind!=` terms come in any number and order
 * (Quay builds them from a Python set). Events without any `account=` and without a
 * command (an export of the whole index) are refused. Anything else is UnsupportedSpl.
 */
import { type Token, tokenize, UnsupportedSpl } from './tokens.ts';

export type SplCommand = 'events' | 'sorted' | 'count' | 'countByKindDay';

export interface SplQuery {
  /** The `index=` term when present (the token, not the index, decides what is read). */
  index?: string;
  account?: string;
  performer?: string;
  repository?: string;
  /** `kind!=` values, de-duplicated and sorted. */
  excludeKinds: string[];
  command: SplCommand;
}

const EQUALITY_FIELDS = ['account', 'performer', 'repository'] as const;
type EqualityField = (typeof EQUALITY_FIELDS)[number];

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.type !== 'end') this.i++;
    return t;
  }

  private describe(t: Token): string {
    if (t.type === 'end') return 'the end of the search';
    if (t.type === 'string') return `"${t.text}" at position ${t.pos}`;
    return `${t.text} at position ${t.pos}`;
  }

  /** Consumes one word or operator with this exact text. */
  private expect(text: string, context: string): void {
    const t = this.next();
    if ((t.type === 'word' || t.type === 'op') && t.text === text) return;
    throw new UnsupportedSpl(`expected ${text} ${context}, found ${this.describe(t)}`);
  }

  private isWord(text: string): boolean {
    const t = this.peek();
    return t.type === 'word' && t.text === text;
  }

  query(): SplQuery {
    this.expect('search', 'as the first command');
    const q: SplQuery = { excludeKinds: [], command: 'events' };
    if (this.isWord('index')) {
      this.next();
      this.expect('=', 'after index');
      const v = this.next();
      if (v.type !== 'word' && v.type !== 'string') throw new UnsupportedSpl(`expected an index name, found ${this.describe(v)}`);
      q.index = v.text;
    }
    const kinds = new Set<string>();
    while (this.peek().type === 'word') this.term(q, kinds);
    q.excludeKinds = [...kinds].sort();
    q.command = this.pipeline();
    const rest = this.peek();
    if (rest.type !== 'end') throw new UnsupportedSpl(`unexpected ${this.describe(rest)}`);
    if (q.command === 'events' && q.account === undefined) {
      throw new UnsupportedSpl('an export of the whole index (no account= term) is refused');
    }
    return q;
  }

  private term(q: SplQuery, kinds: Set<string>): void {
    const field = this.next();
    const op = this.next();
    const value = this.next();
    if (field.text === 'kind' && op.text === '!=') {
      if (value.type !== 'string') throw new UnsupportedSpl(`kind!= takes a quoted value, found ${this.describe(value)}`);
      kinds.add(value.text);
      return;
    }
    if (!(EQUALITY_FIELDS as readonly string[]).includes(field.text)) {
      throw new UnsupportedSpl(
        `the term ${field.text}${op.text}… at position ${field.pos} (supported: account="…", performer="…", repository="…", kind!="…")`,
      );
    }
    if (op.text !== '=') throw new UnsupportedSpl(`${field.text} supports only =, found ${this.describe(op)}`);
    if (value.type !== 'string') throw new UnsupportedSpl(`${field.text}= takes a quoted value, found ${this.describe(value)}`);
    const name = field.text as EqualityField;
    if (q[name] !== undefined) throw new UnsupportedSpl(`${name}= is given twice`);
    q[name] = value.text;
  }

  private pipeline(): SplCommand {
    if (this.peek().type === 'end') return 'events';
    this.expect('|', 'between commands');
    const cmd = this.next();
    if (cmd.type === 'word' && cmd.text === 'sort') {
      this.expect('-_time', 'after sort (only sort -_time is supported)');
      return 'sorted';
    }
    if (cmd.type === 'word' && cmd.text === 'stats') {
      this.expect('count', 'after stats');
      if (this.isWord('by')) throw new UnsupportedSpl('stats count by … is supported only after eval log_date=strftime(_time, "%Y-%m-%d")');
      return 'count';
    }
    if (cmd.type === 'word' && cmd.text === 'eval') {
      this.expect('log_date', 'after eval');
      this.expect('=', 'after eval log_date');
      this.expect('strftime', 'in eval log_date=');
      this.expect('(', 'after strftime');
      this.expect('_time', 'as the first argument of strftime');
      this.expect(',', 'after strftime(_time');
      const format = this.next();
      if (format.type !== 'string' || format.text !== '%Y-%m-%d') {
        throw new UnsupportedSpl(`only strftime(_time, "%Y-%m-%d") is supported, found ${this.describe(format)}`);
      }
      this.expect(')', 'after the strftime format');
      this.expect('|', 'after eval');
      this.expect('stats', 'after eval');
      this.expect('count', 'after stats');
      this.expect('by', 'after stats count');
      this.expect('kind', 'after stats count by');
      this.expect(',', 'after stats count by kind');
      this.expect('log_date', 'after stats count by kind,');
      return 'countByKindDay';
    }
    throw new UnsupportedSpl(
      `the command ${this.describe(cmd)} (supported: sort -_time, stats count, eval log_date=strftime(_time, "%Y-%m-%d") | stats count by kind, log_date)`,
    );
  }
}

/** Parses one of Quay's search strings, or throws UnsupportedSpl naming what is not supported. */
export function parseSpl(spl: string): SplQuery {
  return new Parser(tokenize(spl)).query();
}
