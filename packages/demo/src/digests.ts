/**
 * Manifest digests for the demo: a fixed pool of 65,536 distinct
 * `sha256:<64 hex>` strings (about as many manifests as a registry of the
 * demo's size holds), built once per process, each a flat string so that rows
 * referring to them stay small.
 */
import { mix32 } from './rng.ts';

let digests: string[] | null = null;
/** 65,536 distinct `sha256:…` strings, each a flat (non-rope) string; built on first use. */
export function digestPool(): string[] {
  if (digests === null) {
    const hex = '0123456789abcdef';
    const buf = Buffer.from('sha256:' + '0'.repeat(64), 'latin1');
    digests = new Array<string>(65536);
    for (let i = 0; i < 65536; i++) {
      let h = mix32(i ^ 0x5bd1e995);
      for (let w = 0; w < 8; w++) {
        // The first word carries i itself, so all 65,536 digests differ.
        const word = w === 0 ? ((h & 0xffff0000) | i) >>> 0 : h;
        for (let n = 0; n < 8; n++) buf[7 + w * 8 + n] = hex.charCodeAt((word >>> (28 - 4 * n)) & 15);
        h = mix32((h + 0x6d2b79f5) | 0);
      }
      digests[i] = buf.toString('latin1');
    }
  }
  return digests;
}

