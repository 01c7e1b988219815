/** The sources file: what it accepts and how it explains what it rejects. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSourcesConfig, parseSourcesConfig, SourcesConfigError } from '../src/poller/index.ts';

const problems = (text: string): string => {
  try {
    parseSourcesConfig(text, 'sources.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(SourcesConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the file to be rejected');
};

describe('sources file', () => {
  it('reads namespace and superuser sources with defaults (5m interval, no start)', () => {
    const sources = parseSourcesConfig(`
sources:
  - name: prod
    url: https://quay.example.com
    token: abc
    namespaces: [acme, alice]
    interval: 90s
    start: 1/9/2024
  - name: all
    url: https://quay2.example.com/
    token: def
    superuser: true
`);
    expect(sources).toEqual([
      { name: 'prod', url: 'https://quay.example.com', token: 'abc', namespaces: ['acme', 'alice'], superuser: false, intervalMs: 90_000, start: new Date('2024-01-09T00:00:00Z') },
      { name: 'all', url: 'https://quay2.example.com/', token: 'def', namespaces: [], superuser: true, intervalMs: 300_000, start: null },
    ]);
  });

  it('treats an empty file as no sources', () => {
    expect(parseSourcesConfig('')).toEqual([]);
    expect(parseSourcesConfig('sources: []')).toEqual([]);
  });

  it('names each problem with its place in the file and what to write instead', () => {
    const msg = problems(`
sources:
  - name: prod
    url: quay.example.com
    token: ""
    interval: often
    start: 2024-01-01
  - name: prod
    url: https://q
    token: t
    namespaces: [a, a]
    superuser: true
    namspaces: [b]
`);
    expect(msg).toMatch(/^sources\.yaml has \d+ problem\(s\):/);
    expect(msg).toContain('sources[0] (prod).url: must be the registry root as an http(s) URL');
    expect(msg).toContain('sources[0] (prod).token: must be a Quay OAuth access token');
    expect(msg).toContain('sources[0] (prod).interval: must be a duration of at least 10s like 30s, 5m or 1h (got "often")');
    expect(msg).toContain('sources[0] (prod).start: must be a day as MM/DD/YYYY');
    expect(msg).toContain('sources[1] (prod): unknown key(s) "namspaces"');
    expect(msg).toContain('sources[1] (prod).namespaces: lists a namespace twice');
  });

  it('requires exactly one of namespaces and superuser: true, and unique source names', () => {
    expect(problems('sources:\n  - {name: a, url: "https://q", token: t}\n')).toContain(
      'sources[0] (a): needs namespaces: [...] (read through /organization/{ns}/logs) or superuser: true',
    );
    expect(problems('sources:\n  - {name: a, url: "https://q", token: t, namespaces: [x], superuser: true}\n')).toContain(
      'give either namespaces or superuser: true, not both',
    );
    expect(problems('sources:\n  - {name: a, url: "https://q", token: t, namespaces: []}\n')).toContain('must list at least one namespace');
    expect(
      problems('sources:\n  - {name: a, url: "https://q", token: t, superuser: true}\n  - {name: a, url: "https://r", token: t, superuser: true}\n'),
    ).toContain('sources[1] (a).name: "a" names two sources');
    expect(problems('sources:\n  - {name: "bad name", url: "https://q", token: t, superuser: true}\n')).toContain('.name: must be 1–63 letters');
    expect(problems('source: []\n')).toContain('unknown key(s) "source"');
  });

  it('reports YAML syntax errors and unreadable files', async () => {
    expect(() => parseSourcesConfig('sources: [\n', 'x.yaml')).toThrow(/^x\.yaml is not valid YAML: /);
    await expect(loadSourcesConfig('/nonexistent/quaylogs.yaml')).rejects.toThrow(/cannot read the sources file \/nonexistent\/quaylogs\.yaml \(QUAYLOGS_CONFIG\)/);
    const dir = mkdtempSync(join(tmpdir(), 'quaylogs-sources-'));
    writeFileSync(join(dir, 's.yaml'), 'sources:\n  - {name: a, url: "https://q", token: t, superuser: true}\n');
    expect((await loadSourcesConfig(join(dir, 's.yaml')))[0]?.name).toBe('a');
  });
});
