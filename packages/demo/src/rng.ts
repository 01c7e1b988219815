/**
 * Small, fast, seeded randomness for the demo generator.
 *
 * `Rng` is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, public
 * domain): 128 bits of state, 32-bit output, a handful of integer ops per draw.
 * Seeds are derived from a label with SHA-256 so that independent streams
 * (world, rows, event keys) never share state.
 */
import { createHash } from 'node:crypto';

/** Four 32-bit words from SHA-256 of a label (the first 16 bytes of the digest). */
export function seedWords(label: string): [number, number, number, number] {
  const h = createHash('sha256').update(label).digest();
  return [h.readUInt32BE(0), h.readUInt32BE(4), h.readUInt32BE(8), h.readUInt32BE(12)];
}

/** Eight 32-bit words from SHA-256 of a label (the whole digest). */
export function seedWords8(label: string): number[] {
  const h = createHash('sha256').update(label).digest();
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(h.readUInt32BE(i * 4));
  return out;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  static fromLabel(label: string): Rng {
    const [a, b, c, d] = seedWords(label);
    return new Rng(a, b, c, d);
  }

  /** Uniform unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Index in [0, n) skewed towards 0 (density ∝ 1 − x): the first few items are the busiest. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(u * u * n);
  }
}

/** Fast 32-bit integer hash (lowbias32 by Chris Wellons, public domain). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Two lowercase hex digits for every byte value. */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Eight lowercase hex digits of a 32-bit word. */
export function hex8(w: number): string {
  return HEX2[(w >>> 24) & 255]! + HEX2[(w >>> 16) & 255]! + HEX2[(w >>> 8) & 255]! + HEX2[w & 255]!;
}

/** A random (version 4 layout) UUID drawn from `rng`. */
export function uuidFrom(rng: Rng): string {
  const a = rng.next();
  const b = rng.next();
  const c = rng.next();
  const d = rng.next();
  const s = hex8(a) + hex8((b & 0xffff0fff) | 0x4000) + hex8((c & 0x3fffffff) | 0x80000000) + hex8(d);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/**
 * Walker/Vose alias table: O(1) sampling from a fixed discrete distribution.
 * One 32-bit draw picks both the column and the coin.
 */
export class AliasTable {
  readonly size: number;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: readonly number[]) {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable needs at least one weight');
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`invalid weight ${w}`);
      total += w;
    }
    if (total <= 0) throw new RangeError('AliasTable needs a positive total weight');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) {
      this.prob[i] = 1;
      this.alias[i] = i;
    }
    for (const i of small) {
      this.prob[i] = 1;
      this.alias[i] = i;
    }
  }

  sample(rng: Rng): number {
    const u = rng.float() * this.size;
    const i = Math.floor(u);
    return u - i < this.prob[i]! ? i : this.alias[i]!;
  }
}

/** `n` random bytes drawn from `rng`. */
export function randomBytesFrom(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rng.next() & 255;
  return b;
}
