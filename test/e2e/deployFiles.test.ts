/**
 * The deployment files (infra/compose, infra/k8s) parse, and say what quaylogs needs: every
 * quaylogs variable they set is one quaylogs reads; Redis persists; workers and the API get
 * resources, probes and a grace period longer than quaylogs' own shutdown deadline.
 * No Docker or cluster runs here: this is what can be checked without them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { describeConfig } from '@quaylogs/config';

const ROOT = resolve(import.meta.dirname, '../..');
const KNOWN = new Set(describeConfig().map((v) => v.name));

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
}
function load(file: string): any[] {
  // merge: compose files use YAML merge keys (<<: *anchor), as Docker Compose reads them.
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'), { merge: true });
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS({ maxAliasCount: 100 })).filter((d) => d != null);
}
/** Names of quaylogs/ClickHouse/Redis variables set anywhere in a parsed document. */
function envNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) envNames(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (/^(QUAYLOGS_|CLICKHOUSE_URL$|CLICKHOUSE_DATABASE$|REDIS_URL$)/.test(k)) out.add(k);
      if (k === 'name' && typeof v === 'string' && /^QUAYLOGS_/.test(v)) out.add(v);
      envNames(v, out);
    }
  }
  return out;
}

const files = [...yamlFiles('infra/compose'), ...yamlFiles('infra/k8s')];

describe('deployment files', () => {
  it.each(files)('%s parses as YAML', (file) => {
    expect(load(file).length).toBeGreaterThan(0);
  });

  it.each(files)('%s sets only variables quaylogs reads', (file) => {
    for (const name of envNames(load(file))) expect(KNOWN, `${file}: ${name}`).toContain(name);
  });

  it('compose runs ClickHouse with Keeper, Redis with AOF, migrate first, every role, and an SMTP catcher', () => {
    const [compose] = load('infra/compose/compose.yaml');
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['api', 'clickhouse', 'exporter', 'keeper', 'loader', 'mailpit', 'migrate', 'poller', 'redis']);
    expect(s.redis.command.join(' ')).toContain('--appendonly yes');
    expect(s.redis.command.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(s.migrate.command).toEqual(['migrate']);
    for (const role of ['api', 'loader', 'poller', 'exporter']) {
      expect(s[role].depends_on.migrate.condition, role).toBe('service_completed_successfully');
      expect(s[role].stop_grace_period, role).toBe('30s');
      expect(Number(s[role].environment.QUAYLOGS_SHUTDOWN_TIMEOUT_MS)).toBeLessThan(30_000);
    }
    expect(s.loader.command).toEqual(['worker', '--roles', 'loader']);
    expect(s.clickhouse.depends_on.keeper.condition).toBe('service_healthy');
  });

  it('k8s: migrate is a Job; every Deployment has resources and a grace period past the shutdown deadline; the API has probes', () => {
    const docs = yamlFiles('infra/k8s').flatMap(load);
    const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'quaylogs');
    const deadlineS = Number(config.data.QUAYLOGS_SHUTDOWN_TIMEOUT_MS) / 1000;
    const job = docs.find((d) => d.kind === 'Job');
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['quaylogs-api', 'quaylogs-exporter', 'quaylogs-loader', 'quaylogs-poller']);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(deadlineS);
      for (const c of pod.containers) {
        expect(c.resources.requests.cpu, d.metadata.name).toBeDefined();
        expect(c.resources.limits.memory, d.metadata.name).toBeDefined();
      }
    }
    const api = deployments.find((d) => d.metadata.name === 'quaylogs-api').spec.template.spec.containers[0];
    expect(api.readinessProbe.httpGet.path).toBe('/readyz');
    expect(api.livenessProbe.httpGet.path).toBe('/healthz');
    const redis = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name === 'quaylogs-redis');
    expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--appendonly yes');
    const kustomization = load('infra/k8s/kustomization.yaml')[0];
    for (const r of kustomization.resources) expect(files).toContain(`infra/k8s/${r}`);
  });
});
