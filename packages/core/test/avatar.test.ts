import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AVATAR_COLORS, avatarColor, avatarFor } from '../src/index.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const SEED_HASH = 'b28d563a6dc76b4431fc7b0524bbff6b810387dac86d9303874871839859c7cc';

describe('avatar colour', () => {
  it("gives the seed user's hash the seed colour #17becf (0xb2 = 178, 178 mod 32 = 18)", () => {
    expect(avatarColor(SEED_HASH)).toBe('#17becf');
  });

  it('uses the first two hex digits modulo the 32-colour palette', () => {
    expect(AVATAR_COLORS).toHaveLength(32);
    expect(avatarColor('00' + 'a'.repeat(62))).toBe('#969696');
    expect(avatarColor('1f' + '0'.repeat(62))).toBe('#a55194');
    expect(avatarColor('20' + 'f'.repeat(62))).toBe('#969696');
    expect(avatarColor('ff' + '0'.repeat(62))).toBe('#a55194');
  });
});

describe('avatarFor', () => {
  it("hashes the account's e-mail; the seed hash is not sha256 of the name, so it came from quayuser's (unknown) e-mail", () => {
    expect(sha256('quayuser')).not.toBe(SEED_HASH);
    const withEmail = avatarFor('quayuser', 'quayuser@example.com', 'user');
    expect(withEmail).toEqual({
      name: 'quayuser',
      hash: sha256('quayuser@example.com'),
      color: avatarColor(sha256('quayuser@example.com')),
      kind: 'user',
    });
  });

  it('hashes the name when the e-mail is null or empty', () => {
    expect(avatarFor('quayuser', null, 'user').hash).toBe(sha256('quayuser'));
    expect(avatarFor('quayuser', '', 'user').hash).toBe(sha256('quayuser'));
  });

  it('trims and lower-cases the input before hashing', () => {
    expect(avatarFor('a', '  QuayUser@Example.COM ', 'user').hash).toBe(sha256('quayuser@example.com'));
    expect(avatarFor(' MyOrg ', null, 'org')).toMatchObject({ name: ' MyOrg ', hash: sha256('myorg'), kind: 'org' });
  });

  it('uses MD5 for AVATAR_KIND gravatar', () => {
    const md5 = createHash('md5').update('quayuser@example.com').digest('hex');
    const avatar = avatarFor('quayuser', 'quayuser@example.com', 'robot', 'gravatar');
    expect(avatar).toEqual({ name: 'quayuser', hash: md5, color: avatarColor(md5), kind: 'robot' });
  });
});
