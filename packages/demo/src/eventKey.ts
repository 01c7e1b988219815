/**
 * Demo event keys: an unsigned 128-bit integer per row, as decimal text.
 *
 * P = a keyed permutation of the row index (a 4-round Feistel network over 48
 * bits, keys from SHA-256 of seed and source). Write P = A·10^12 + B
 * (A < 282, B < 10^12). The key is a 26-digit head chosen by (A, P mod 8) —
 * 22 random digits (leading digit 1–9), then 1–8, then A on three digits —
 * followed by B on twelve digits. Distinct rows have distinct P, hence
 * distinct (A, B), hence distinct keys; every key has 38 digits, so it is
 * below 10^38 < 2^128. Building one costs a few integer ops and two short strings.
 */
import { Rng, mix32, seedWords8 } from './rng.ts';

const TWO_24 = 16777216;
/** Rows per run the permutation covers (2^48). */
export const MAX_DEMO_ROWS = TWO_24 * TWO_24;
const D4: readonly string[] = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, '0'));
const A_MAX = Math.ceil(MAX_DEMO_ROWS / 1e12); // 282

export class EventKeyer {
  private readonly k: Uint32Array;
  /** heads[A * 8 + (P mod 8)] */
  private readonly heads: string[];

  constructor(seed: number, source: string) {
    const label = `quaylogs-demo/event-key/v3:${seed}:${source}`;
    this.k = Uint32Array.from(seedWords8(label));
    const rng = Rng.fromLabel(`${label}:heads`);
    this.heads = [];
    for (let a = 0; a < A_MAX; a++) {
      for (let v = 0; v < 8; v++) {
        let h = String(1 + rng.int(9));
        for (let d = 0; d < 21; d += 3) h += String(rng.int(1000)).padStart(3, '0');
        this.heads.push(h + String(1 + v) + String(a).padStart(3, '0'));
      }
    }
  }

  /** The key of row `index` (0 ≤ index < 2^48). */
  keyAt(index: number): string {
    const k = this.k;
    let l = Math.floor(index / TWO_24) & 0xffffff;
    let r = index % TWO_24;
    let t: number;
    t = l ^ (mix32(r ^ k[0]!) & 0xffffff); l = r; r = t;
    t = l ^ (mix32(r ^ k[1]!) & 0xffffff); l = r; r = t;
    t = l ^ (mix32(r ^ k[2]!) & 0xffffff); l = r; r = t;
    t = l ^ (mix32(r ^ k[3]!) & 0xffffff); l = r; r = t;
    const p = l * TWO_24 + r;
    const a = Math.floor(p / 1e12);
    const b = p - a * 1e12;
    const b1 = Math.floor(b / 1e8);
    const rest = b - b1 * 1e8;
    const b2 = Math.floor(rest / 1e4);
    return this.heads[a * 8 + (r & 7)]! + (D4[b1]! + D4[b2]! + D4[rest - b2 * 1e4]!);
  }
}
