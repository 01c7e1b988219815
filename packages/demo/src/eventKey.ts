/**
 * Demo event keys: a 128-bit unsigned integer per row, as a decimal string.
 *
 * The key is a keyed permutation of the row index (two independent 4-round
 * Feistel networks over 64 bits, keys from SHA-256 of seed and source), so
 * every row of a run gets a different key by construction — no set of seen
 * keys is needed — and the keys look uniformly random.
 */
import { mix32, seedWords8 } from './rng.ts';

const TWO_32 = 4294967296;

export class EventKeyer {
  private readonly k: Uint32Array;
  /** Scratch: eight 16-bit limbs, most significant first. */
  private readonly limbs = new Float64Array(8);

  constructor(seed: number, source: string) {
    this.k = Uint32Array.from(seedWords8(`quaylogs-demo/event-key/v1:${seed}:${source}`));
  }

  /** The key of row `index` (0 ≤ index < 2^53). */
  keyAt(index: number): string {
    const k = this.k;
    const hiIn = Math.floor(index / TWO_32) >>> 0;
    const loIn = index >>> 0;
    // Network A → the high 64 bits, network B → the low 64 bits.
    let l = hiIn;
    let r = loIn;
    let t: number;
    t = (l ^ mix32(r ^ k[0]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[1]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[2]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[3]!)) >>> 0; l = r; r = t;
    const w0 = l;
    const w1 = r;
    l = hiIn;
    r = loIn;
    t = (l ^ mix32(r ^ k[4]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[5]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[6]!)) >>> 0; l = r; r = t;
    t = (l ^ mix32(r ^ k[7]!)) >>> 0; l = r; r = t;
    return this.toDecimal(w0, w1, l, r);
  }

  /** Decimal text of the 128-bit number w0:w1:w2:w3 (w0 most significant). */
  toDecimal(w0: number, w1: number, w2: number, w3: number): string {
    const L = this.limbs;
    L[0] = w0 >>> 16; L[1] = w0 & 0xffff;
    L[2] = w1 >>> 16; L[3] = w1 & 0xffff;
    L[4] = w2 >>> 16; L[5] = w2 & 0xffff;
    L[6] = w3 >>> 16; L[7] = w3 & 0xffff;
    let start = 0;
    let out = '';
    for (;;) {
      while (start < 8 && L[start] === 0) start++;
      if (start === 8) return out === '' ? '0' : out;
      // Divide the remaining limbs by 1e9; every intermediate stays below 2^53.
      let rem = 0;
      for (let i = start; i < 8; i++) {
        const cur = rem * 65536 + L[i]!;
        const q = Math.floor(cur / 1e9);
        L[i] = q;
        rem = cur - q * 1e9;
      }
      let more = false;
      for (let i = start; i < 8; i++) {
        if (L[i] !== 0) {
          more = true;
          break;
        }
      }
      if (!more) return String(rem) + out;
      out = String(rem).padStart(9, '0') + out;
    }
  }
}
