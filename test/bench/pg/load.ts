/**
 * Loads the demo world and rows into Quay's tables with COPY, the way Quay
 * itself would have stored them:
 * - every account (user, organization, robot) is a `user` row; ids follow the
 *   world's order with the superuser first (the first account of an install);
 * - an entry without a namespace gets Quay's fallback account, the minimum
 *   user id (data/model/log.py `log_action` when SERVICE_LOG_ACCOUNT_ID is unset);
 * - performer / repository / ip become NULL when the entry has none;
 * - Quay's table model does not store the extended-logging fields.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import { LOG_KINDS } from '@quaylogs/core';
import type { DemoWorld } from '@quaylogs/demo';

/** COPY text-format field: `\N` for NULL, backslash escapes for the four special characters. */
export function copyField(v: string | number | boolean | null): string {
  if (v === null) return '\\N';
  if (typeof v !== 'string') return String(v);
  if (!/[\\\t\n\r]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function copyLine(fields: (string | number | boolean | null)[]): string {
  return fields.map(copyField).join('\t') + '\n';
}

export function openCopy(client: pg.Client, table: string, columns: readonly string[]): Writable {
  return client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
}

export async function writeWithBackpressure(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function endCopy(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

/** Ids Quay would have given the world's accounts, repositories and kinds. */
export interface QuayIds {
  account: Map<string, number>;
  /** `namespace/name` → id */
  repository: Map<string, number>;
  kind: Map<string, number>;
  kindName: Map<number, string>;
  /** The minimum user id: Quay's account for entries without a namespace. */
  fallbackAccount: number;
}

/** A deterministic UUID-shaped string (Quay keeps a uuid per user). */
function fakeUuid(n: number, salt: number): string {
  const h = (x: number) => ((Math.imul(x ^ 0x9e3779b9, 0x85ebca6b) >>> 0) ^ salt).toString(16).padStart(8, '0').slice(0, 8);
  const a = h(n);
  const b = h(n * 7 + 1);
  const c = h(n * 13 + 2);
  const d = h(n * 31 + 3);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(0, 3)}-${c.slice(3, 8)}${d.slice(0, 7)}`;
}

export async function loadWorld(client: pg.Client, world: DemoWorld, extraKinds: readonly string[], now: Date): Promise<QuayIds> {
  const kinds = [...LOG_KINDS, ...extraKinds.filter((k) => !LOG_KINDS.includes(k))];
  const kind = new Map<string, number>();
  const kindName = new Map<number, string>();
  let text = '';
  kinds.forEach((name, i) => {
    kind.set(name, i + 1);
    kindName.set(i + 1, name);
    text += copyLine([i + 1, name]);
  });
  let copy = openCopy(client, 'logentrykind', ['id', 'name']);
  await writeWithBackpressure(copy, text);
  await endCopy(copy);

  // The superuser is the install's first account (lowest id).
  const accounts: AccountInfo[] = [...world.accounts].sort((a, b) => Number(b.name === 'quayadmin') - Number(a.name === 'quayadmin'));
  const account = new Map<string, number>();
  const usedEmails = new Set<string>();
  const created = new Date(now.getTime() - 400 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
  const nowText = now.toISOString().replace('T', ' ').replace('Z', '');
  text = '';
  accounts.forEach((a, i) => {
    const id = i + 1;
    account.set(a.name, id);
    const org = a.kind === 'org';
    const robot = a.kind === 'robot';
    // Robots get a random e-mail in Quay; users need unique ones (user_email_unique_non_org).
    let email = a.email ?? (org ? `${a.name}@orgs.example.com` : fakeUuid(id, 0x5eed));
    if (!org) {
      if (usedEmails.has(email)) email = `${id}.${email}`;
      usedEmails.add(email);
    }
    text += copyLine([
      id, fakeUuid(id, 0x1234), a.name, org || robot ? null : '$2b$12$' + 'x'.repeat(53), email,
      true, null, org, robot, false, 0, nowText, 1209600, true, null, created,
    ]);
  });
  copy = openCopy(client, '"user"', [
    'id', 'uuid', 'username', 'password_hash', 'email', 'verified', 'stripe_id', 'organization', 'robot',
    'invoice_email', 'invalid_login_attempts', 'last_invalid_login', 'removed_tag_expiration_s', 'enabled',
    'invoice_email_address', 'creation_date',
  ]);
  await writeWithBackpressure(copy, text);
  await endCopy(copy);

  const repository = new Map<string, number>();
  text = '';
  world.repositories.forEach((r, i) => {
    const id = i + 1;
    const ns = account.get(r.namespace);
    if (ns === undefined) throw new Error(`repository ${r.namespace}/${r.name}: unknown namespace`);
    repository.set(`${r.namespace}/${r.name}`, id);
    // visibility 2 = private; kind 1 = image; state 0 = normal.
    text += copyLine([id, ns, r.name, 2, null, fakeUuid(id, 0xbad9e), 1, false, 0]);
  });
  copy = openCopy(client, 'repository', ['id', 'namespace_user_id', 'name', 'visibility_id', 'description', 'badge_token', 'kind_id', 'trust_enabled', 'state']);
  await writeWithBackpressure(copy, text);
  await endCopy(copy);

  for (const [seq, max] of [
    ['logentrykind_id_seq', kinds.length],
    ['user_id_seq', accounts.length],
    ['repository_id_seq', world.repositories.length],
  ] as const) {
    await client.query('SELECT setval($1, $2)', [seq, Math.max(1, max)]);
  }
  return { account, repository, kind, kindName, fallbackAccount: 1 };
}

export const LOGENTRY3_COLUMNS = ['id', 'kind_id', 'account_id', 'performer_id', 'repository_id', 'datetime', 'ip', 'metadata_json'] as const;

/** COPY text of a batch of rows for logentry3; `firstId` is the id of the batch's first row. */
export function logentry3Copy(rows: readonly UsageLogRow[], firstId: number, ids: QuayIds): string {
  let out = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const kindId = ids.kind.get(r.kind);
    if (kindId === undefined) throw new Error(`kind ${r.kind} is not in logentrykind`);
    const account = r.namespace === '' ? ids.fallbackAccount : ids.account.get(r.namespace);
    if (account === undefined) throw new Error(`namespace ${r.namespace} has no user row`);
    let performer: number | null = null;
    if (r.performer !== '') {
      const p = ids.account.get(r.performer);
      if (p === undefined) throw new Error(`performer ${r.performer} has no user row`);
      performer = p;
    }
    let repo: number | null = null;
    if (r.repository !== '') {
      const id = ids.repository.get(`${r.namespace}/${r.repository}`);
      if (id === undefined) throw new Error(`repository ${r.namespace}/${r.repository} has no row`);
      repo = id;
    }
    out += `${firstId + i}\t${kindId}\t${account}\t${performer ?? '\\N'}\t${repo ?? '\\N'}\t${r.datetime}\t${r.ip === '' ? '\\N' : copyField(r.ip)}\t${copyField(r.metadata)}\n`;
  }
  return out;
}

export async function finishLoad(client: pg.Client, rows: number): Promise<void> {
  await client.query('SELECT setval($1, $2)', ['logentry3_id_seq', Math.max(1, rows)]);
  await client.query('VACUUM ANALYZE');
}
