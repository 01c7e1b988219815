/**
 * Reads a streamed `RowBinary` result of one String column (each value after its length as
 * an unsigned LEB128 varint) back into values, whatever the chunk boundaries: a value cut
 * by a chunk's end is completed from the next chunk.
 */

/** One chunk's complete values: `bodies` holds them back to back, `ends[i]` is where value i ends. */
export interface FramedValues {
  bodies: Buffer;
  ends: number[];
}

/** The length and where the value starts, or null when the varint is not complete in `buf` from `at`. */
function header(buf: Buffer, at: number): { len: number; body: number } | null {
  let len = 0;
  for (let p = at, shift = 0; p < buf.length && shift < 64; shift += 7) {
    const byte = buf[p++]!;
    len += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { len, body: p };
  }
  return null;
}

export class RowFrames {
  private rest: Buffer | null = null;

  /** The values complete with this chunk; bytes of a value still incomplete are kept for the next. */
  push(chunk: Buffer): FramedValues {
    let buf = chunk;
    let at = 0;
    let first: Buffer | null = null;
    if (this.rest !== null) {
      // Complete the value cut at the last chunk's end from the start of this one, copying
      // only that value's bytes (a chunk is ~0.5 MB; most are not cut anywhere near a value's start).
      const head = Buffer.concat([this.rest, chunk.subarray(0, 10)]);
      const h = header(head, 0);
      const need = h === null ? Infinity : h.body + h.len - this.rest.length;
      if (need > chunk.length) {
        this.rest = Buffer.concat([this.rest, chunk]);
        return { bodies: Buffer.alloc(0), ends: [] };
      }
      first = Buffer.concat([this.rest, chunk.subarray(0, need)]).subarray(h!.body);
      this.rest = null;
      at = need;
      buf = chunk;
    }
    // Each value moves left by the length of its varint: copied within one new buffer.
    const bodies = Buffer.allocUnsafe(buf.length - at + (first?.length ?? 0));
    const ends: number[] = [];
    let out = 0;
    if (first !== null) {
      out += first.copy(bodies, 0);
      ends.push(out);
    }
    while (at < buf.length) {
      const h = header(buf, at);
      if (h === null || h.body + h.len > buf.length) break;
      out += buf.copy(bodies, out, h.body, h.body + h.len);
      ends.push(out);
      at = h.body + h.len;
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at));
    return { bodies: bodies.subarray(0, out), ends };
  }

  /** Throws when the stream ended inside a value (a cut-off result). */
  finish(): void {
    if (this.rest !== null) throw new Error(`the result ended inside a value (${this.rest.length} bytes left over)`);
  }
}
