/**
 * Acknowledgement: stored entries leave their streams (so a stream holds exactly the
 * entries not yet stored), the batch's intent is removed, and the namespaces it touched
 * get fresh log generations (cached /logs pages of them stop being served) — all in one
 * Lua script, so all of it happens or none does.
 *
 * The owner's acknowledgement is fenced: it happens only if every shard lease the batch
 * was read under is still held with the same value. A replayed intent's acknowledgement
 * is conditioned on the intent being still there instead (anyone may finish an intent:
 * its insert is idempotent under its token).
 */
import { randomBytes } from 'node:crypto';
import type { UsageLogRow } from '@quaylogs/core';
import { ALL_NAMESPACES, LEASE_HELD_LUA, LOG_GENERATIONS_KEY, type Redis } from '@quaylogs/queue';
import { INSERT_INTENTS_KEY } from './insertIntents.ts';

const ACK = `${LEASE_HELD_LUA}
local a = cjson.decode(ARGV[1])
if a.mode == 'owner' then
  for _, l in ipairs(a.leases) do if not lease_held(l[1], l[2]) then return 0 end end
elseif redis.call('HGET', KEYS[1], a.field) ~= a.intent then
  return 0
end
for _, s in ipairs(a.streams) do
  local ids = s[2]
  for i = 1, #ids, 500 do redis.call('XDEL', s[1], unpack(ids, i, math.min(i + 499, #ids))) end
end
if a.intent ~= '' and redis.call('HGET', KEYS[1], a.field) == a.intent then redis.call('HDEL', KEYS[1], a.field) end
local g = a.generations
for i = 1, #g, 500 do
  local args = {}
  for j = i, math.min(i + 499, #g) do args[#args + 1] = g[j]; args[#args + 1] = a.token end
  redis.call('HSET', KEYS[2], unpack(args))
end
return 1`;

function streamsOf(entries: readonly { stream: string; id: string }[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const e of entries) {
    let ids = by.get(e.stream);
    if (!ids) by.set(e.stream, (ids = []));
    ids.push(e.id);
  }
  return [...by];
}

async function run(
  redis: Redis,
  args: { mode: 'owner' | 'replay'; field: string; intent: string; leases: [string, string][]; entries: readonly { stream: string; id: string }[]; rows: readonly UsageLogRow[] },
): Promise<boolean> {
  const streams = streamsOf(args.entries);
  const generations = [ALL_NAMESPACES, ...new Set(args.rows.map((r) => r.namespace).filter((ns) => ns !== ALL_NAMESPACES))];
  const payload = JSON.stringify({ ...args, entries: undefined, rows: undefined, streams, generations, token: randomBytes(12).toString('base64url') });
  const keys = [INSERT_INTENTS_KEY, LOG_GENERATIONS_KEY, ...args.leases.map((l) => l[0]), ...streams.map((s) => s[0])];
  return Number(await redis.eval(ACK, keys.length, ...keys, payload)) === 1;
}

/** The owner acknowledges its stored batch; false: a lease changed hands, nothing was acknowledged. */
export function acknowledgeOwned(
  redis: Redis,
  field: string,
  intent: string,
  leases: [string, string][],
  entries: readonly { stream: string; id: string }[],
  rows: readonly UsageLogRow[],
): Promise<boolean> {
  return run(redis, { mode: 'owner', field, intent, leases, entries, rows });
}

/** Acknowledges a replayed intent's entries, unless another loader finished that intent first. */
export function acknowledgeReplayed(
  redis: Redis,
  field: string,
  intent: string,
  entries: readonly { stream: string; id: string }[],
  rows: readonly UsageLogRow[],
): Promise<boolean> {
  return run(redis, { mode: 'replay', field, intent, leases: [], entries, rows });
}
