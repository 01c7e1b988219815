import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  assignContentKeys,
  canonicalJson,
  contentKey,
  randomEventKey,
  type UsageLogRow,
} from '../src/index.ts';
import { row } from '@quaylogs/testing';

const MAX_U128 = (1n << 128n) - 1n;
const unkeyed = (overrides: Partial<UsageLogRow> = {}): Omit<UsageLogRow, 'event_key'> => {
  const { event_key: _ignored, ...rest } = row(overrides);
  return rest;
};
const isU128 = (s: string) => /^(0|[1-9][0-9]*)$/.test(s) && BigInt(s) <= MAX_U128;

describe('randomEventKey', () => {
  it('returns distinct unsigned 128-bit decimal strings', () => {
    const keys = Array.from({ length: 200 }, randomEventKey);
    for (const key of keys) expect(isU128(key), key).toBe(true);
    expect(new Set(keys).size).toBe(200);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('drops undefined members like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined] })).toBe('{"b":null,"c":[null]}');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
  });
});

describe('contentKey', () => {
  const base = unkeyed({ metadata: '{"repo":"busybox","tag":"latest","namespace":"quayuser"}' });

  it('is a deterministic unsigned 128-bit decimal', () => {
    expect(isU128(contentKey(base, 0))).toBe(true);
    expect(contentKey(base, 0)).toBe(contentKey({ ...base }, 0));
  });

  it('never changes between versions (stored keys would stop matching and re-imports would double-count)', () => {
    const row = {
      source: 's', namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'alice', ip: '10.0.0.1',
      datetime: '2024-06-18 12:00:00.000', metadata: '{"tag":"v1"}', request_url: '', http_method: '', user_agent: '',
      request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
    };
    expect(contentKey(row, 0)).toBe('32367904849043548558340709933392043414');
    expect(contentKey(row, 3)).toBe('72981678476729646759691868685691102255');
  });

  it('equals the general canonical serialisation for every shape of metadata', () => {
    // The key is defined as sha256(canonicalJson([...content]) + "\n" + ordinal); contentKey
    // writes that text out directly, and must never drift from the definition.
    const reference = (r: typeof base, ordinal: number) => {
      let meta: unknown;
      try {
        meta = r.metadata === '' ? { json: {} } : { json: JSON.parse(r.metadata) };
      } catch {
        meta = { raw: r.metadata };
      }
      const text = canonicalJson(['quaylogs-event-v1', r.source, r.namespace, r.kind, r.performer, r.ip, r.datetime.slice(0, 19), meta]);
      const digest = createHash('sha256').update(`${text}\n${ordinal}`, 'utf8').digest();
      return BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10);
    };
    const shapes = [
      '', '{}', '[]', 'null', '42', '"text"', 'not json', '{"b":1,"a":2}', '{"a":{"z":[3,{"y":1,"x":2}],"b":null}}',
      '{"B":1,"a":2,"_":3,"é":4,"😀":5,"\\u0000":6}', '{"n":1e21,"f":0.1,"neg":-0,"big":12345678901234567890}',
      '{"s":"quote \\" backslash \\\\ newline \\n tab \\t \\u2028"}', '{"__proto__":{"x":1},"constructor":2}', '{"toJSON":"not a function"}',
      '{ "spaced" : [ 1 , 2 ] }',
    ];
    for (const metadata of shapes) {
      for (const over of [{}, { performer: 'org+robot', ip: '', namespace: 'ünï "q"' }]) {
        const r = { ...base, ...over, metadata };
        expect(contentKey(r, 0), metadata).toBe(reference(r, 0));
        expect(contentKey(r, 7), metadata).toBe(reference(r, 7));
      }
    }
  });

  it('ignores metadata key order, milliseconds within the second and extended fields', () => {
    const k = contentKey(base, 0);
    expect(contentKey({ ...base, metadata: '{"namespace":"quayuser","tag":"latest","repo":"busybox"}' }, 0)).toBe(k);
    expect(contentKey({ ...base, datetime: '2024-06-18 18:59:13.999' }, 0)).toBe(k);
    expect(contentKey({ ...base, datetime: '2024-06-18 18:59:13' }, 0)).toBe(k);
    expect(contentKey({ ...base, request_id: 'abc', user_agent: 'skopeo', auth_type: 'basic' }, 0)).toBe(k);
  });

  it('ignores the repository column, which each path derives differently (the metadata names it)', () => {
    expect(contentKey({ ...base, repository: 'alpine' }, 0)).toBe(contentKey({ ...base, repository: '' }, 0));
  });

  it('changes with every identity field and with the ordinal', () => {
    const k = contentKey(base, 0);
    const variants: Partial<UsageLogRow>[] = [
      { source: 'quay-dr' }, { namespace: 'other' }, { kind: 'pull_repo' },
      { performer: 'someone' }, { ip: '10.0.0.1' }, { datetime: '2024-06-18 18:59:14.000' },
      { metadata: '{"repo":"busybox","tag":"v2","namespace":"quayuser"}' },
    ];
    const keys = variants.map((v) => contentKey({ ...base, ...v }, 0));
    expect(new Set([k, ...keys, contentKey(base, 1)]).size).toBe(variants.length + 2);
  });
});

describe('assignContentKeys', () => {
  const pull = unkeyed({ kind: 'pull_repo', datetime: '2024-06-18 18:59:13.100' });
  const samePullLater = unkeyed({ kind: 'pull_repo', datetime: '2024-06-18 18:59:13.900', request_id: 'r2' });
  const push = unkeyed({ kind: 'push_repo' });

  it('keeps two identical entries in one second apart with ordinals 0 and 1', () => {
    const keyed = assignContentKeys([pull, push, samePullLater]);
    expect(keyed[0]?.event_key).toBe(contentKey(pull, 0));
    expect(keyed[1]?.event_key).toBe(contentKey(push, 0));
    expect(keyed[2]?.event_key).toBe(contentKey(pull, 1));
    expect(new Set(keyed.map((r) => r.event_key)).size).toBe(3);
    expect(keyed[2]).toMatchObject({ request_id: 'r2', datetime: '2024-06-18 18:59:13.900' });
  });

  it('yields the same keys when the same entries are read again', () => {
    const first = assignContentKeys([pull, push, samePullLater]).map((r) => r.event_key);
    const again = assignContentKeys([{ ...pull }, { ...push }, { ...samePullLater }]).map((r) => r.event_key);
    expect(again).toEqual(first);
  });

  it('starts ordinals afresh in another second', () => {
    const nextSecond = unkeyed({ kind: 'pull_repo', datetime: '2024-06-18 18:59:14.000' });
    const keyed = assignContentKeys([pull, nextSecond]);
    expect(keyed[1]?.event_key).toBe(contentKey(nextSecond, 0));
  });
});
