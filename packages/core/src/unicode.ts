/**
 * Unicode validity of external text. JavaScript strings may hold lone UTF-16
 * surrogates (`"\ud800"` in JSON decodes to one); no UTF-8 store can keep them,
 * so every edge refuses them before anything is acknowledged.
 */

/** A lone surrogate: with the `u` flag a surrogate class matches only unpaired halves. */
const LONE_SURROGATE = /\p{Cs}/u;

/** True when `s` is well-formed UTF-16 (no lone surrogate), i.e. encodes to UTF-8 unchanged. */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** True when every string (key or value) in `value` is valid Unicode. Iterative, allocation-light. */
export function allTextValid(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v as Record<string, unknown>) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        if (LONE_SURROGATE.test(k)) return false;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return true;
}

/**
 * The JSON path (`a.b[2]`) of the first string — key or value — in `value` that
 * is not valid Unicode, or null when all are. Walks iteratively: depth cannot
 * overflow the stack; paths are only built once something is wrong.
 */
export function findInvalidText(value: unknown, root = ''): string | null {
  if (allTextValid(value)) return null;
  const stack: { v: unknown; path: string }[] = [{ v: value, path: root }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormedText(v)) return path || '(value)';
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]` });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const p = path ? `${path}.${k}` : k;
        if (!isWellFormedText(k)) return p;
        stack.push({ v: child, path: p });
      }
    }
  }
  return null;
}

/** The nesting depth of a JSON value (a scalar is 0), counted without recursion. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  while (stack.length) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, d: depth });
    }
  }
  return max;
}
