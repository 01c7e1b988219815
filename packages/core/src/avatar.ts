import { createHash } from 'node:crypto';

/** Quay's avatar object, as it appears inside `performer` and `namespace`. */
export interface Avatar {
  name: string;
  hash: string;
  color: string;
  kind: 'user' | 'robot' | 'org' | 'team';
}

/** Quay's default `AVATAR_COLORS` palette, in Quay's order (the index is derived from the hash). */
export const AVATAR_COLORS: readonly string[] = [
  '#969696', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896',
  '#9467bd', '#c5b0d5', '#8c564b', '#c49c94', '#e377c2', '#f7b6d2', '#7f7f7f', '#c7c7c7',
  '#bcbd22', '#1f77b4', '#17becf', '#9edae5', '#393b79', '#5254a3', '#6b6ecf', '#9c9ede',
  '#9ecae1', '#31a354', '#b5cf6b', '#a1d99b', '#8c6d31', '#ad494a', '#e7ba52', '#a55194',
];

/**
 * The colour Quay gives a hash: read as many leading hex digits as it takes to count the
 * palette (ceil(log16(length)): 2 for 32 colours), take that number modulo the length.
 */
export function avatarColor(hash: string, palette: readonly string[] = AVATAR_COLORS): string {
  let digits = 0;
  for (let reach = 1; reach < palette.length; reach *= 16) digits += 1;
  const index = digits === 0 ? 0 : parseInt(hash.slice(0, digits), 16) % palette.length;
  const color = palette[Number.isNaN(index) ? 0 : index];
  if (color === undefined) throw new RangeError('avatar palette is empty');
  return color;
}

/**
 * Quay's avatar for an account: hash the e-mail (or the name when there is no e-mail),
 * trimmed and lower-cased, UTF-8; SHA-256 hex for `AVATAR_KIND: local` (Quay's default),
 * MD5 hex for `gravatar`. Robots carry a random e-mail in Quay, so their hash needs it.
 */
export function avatarFor(
  name: string,
  email: string | null,
  kind: Avatar['kind'],
  hashKind: 'local' | 'gravatar' = 'local',
): Avatar {
  const input = (email || name).trim().toLowerCase();
  const hash = createHash(hashKind === 'gravatar' ? 'md5' : 'sha256')
    .update(input, 'utf8')
    .digest('hex');
  return { name, hash, color: avatarColor(hash), kind };
}
