/**
 * Demo event keys: an unsigned 128-bit integer per row, as decimal text.
 *
 * Key = a 22-digit prefix (leading digit 1–9, from a 1,024-entry table drawn
 * from SHA-256 of seed and source) followed by a 16-digit number that encodes
 * a keyed permutation P of the row index (a 4-round Feistel network over 48
 * bits): 16 digits = k·10^15 + P with k = 1 + (P mod 8) and P < 2^48 < 10^15.
 * P is a bijection, so every row of a run gets a different key by
 * construction; every key has 38 digits, so it is below 10^38 < 2^128.
 * Building one costs a few integer ops and a handful of short strings.
 */
import { Rng, mix32, seedWords8 } from './rng.ts';

const TWO_24 = 16777216;
/** Rows per run the permutation covers (2^48). */
export const MAX_DEMO_ROWS = TWO_24 * TWO_24;
const D4: readonly string[] = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, '0'));

export class EventKeyer {
  private readonly k: Uint32Array;
  private readonly prefixes: string[];

  constructor(seed: number, source: string) {
    const label = `quaylogs-demo/event-key/v2:${seed}:${source}`;
    this.k = Uint32Array.from(seedWords8(label));
    const rng = Rng.fromLabel(`${label}:prefixes`);
    this.prefixes = [];
    for (let i = 0; i < 1024; i++) {
      let p = String(1 + rng.int(9));
      for (let d = 0; d < 21; d += 3) p += String(rng.int(1000)).padStart(3, '0');
      this.prefixes.push(p);
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
    // 16 digits: (1 + (r mod 8)) followed by the 15-digit P = l·2^24 + r.
    const v = (1 + (r & 7)) * 1e15 + l * TWO_24 + r;
    const hi = Math.floor(v / 1e8);
    const lo = v - hi * 1e8;
    const a = Math.floor(hi / 1e4);
    const c = Math.floor(lo / 1e4);
    return this.prefixes[(r >>> 3) & 1023]! + (D4[a]! + D4[hi - a * 1e4]! + D4[c]!) + D4[lo - c * 1e4]!;
  }
}
