/**
 * Handlers for repository-level kinds. Metadata keys and their order follow
 * what Quay writes: registry actions go through util/audit.py `track_and_log`
 * (repo, namespace, user-agent, the call's kwargs, the auth context's
 * username/is_robot, resolved_ip); API actions through `log_action` with the
 * endpoint's own dict (endpoints/api/tag.py, repository.py, permission.py,
 * manifest.py, repositorynotification.py).
 */
import { LABEL_KEYS, DESCRIPTIONS, REPO_BASES } from './names.ts';
import { Channel, type KindHandler, type RowGen } from './rowGen.ts';

const UNAUTHORIZED = '"access to the requested resource is not authorized"';
const ROLES = ['"read"', '"read"', '"write"', '"write"', '"admin"'] as const;
const GONE_SUFFIXES = ['old', 'deprecated', 'tmp', 'test', 'poc', 'archive'] as const;
const NOTIFY_EVENTS = ['repo_push', 'vulnerability_found', 'build_failure', 'repo_image_expiry', 'repo_mirror_sync_failed'] as const;
const NOTIFY_METHODS = ['webhook', 'email', 'slack', 'quay_notification'] as const;
const LABEL_JSON = LABEL_KEYS.map(([k, v]) => `"key":${JSON.stringify(k)},"value":${JSON.stringify(v)}`);

function repoPath(g: RowGen, suffix: string): string {
  return `/api/v1/repository/${g.namespace}/${g.repo!.name}${suffix}`;
}

/** pull_repo, push_repo, repo_verb: a registry request by a member, a robot or anyone. */
function registry(kind: 'pull' | 'push' | 'verb'): KindHandler {
  const anonShare = kind === 'pull' ? 0.1 : kind === 'verb' ? 0.2 : 0;
  const robotShare = kind === 'push' ? 0.55 : 0.5;
  const digestShare = kind === 'pull' ? 0.35 : 0;
  return (g) => {
    const rng = g.rng;
    const repo = g.pickRepo();
    const actor = rng.float() < anonShare ? null : g.actorOf(g.ns!, robotShare);
    g.perform(actor);
    g.channel = Channel.Registry;
    const slot = g.tagSlot();
    let ref: string;
    if (digestShare > 0 && rng.float() < digestShare) {
      ref = g.digest(repo, slot, g.generation(repo));
      g.metadata = repo.open + g.agentThenDigest(actor) + ref + repo.digestMedia + g.tail;
    } else if (kind === 'verb') {
      ref = g.tagName(repo, slot);
      g.metadata = repo.open + g.agentThenTag(actor) + g.tagJson(repo, slot) + ',"verb":"squash"' + g.tail;
    } else {
      ref = g.tagName(repo, slot);
      g.metadata = repo.open + g.agentThenTag(actor) + repo.tagMedia[slot]! + g.tail;
    }
    if (g.extended) {
      g.method = kind === 'push' ? 'PUT' : 'GET';
      g.path = kind === 'verb' ? `/c1/squash/${g.namespace}/${repo.name}/${ref}` : `/v2/${g.namespace}/${repo.name}/manifests/${ref}`;
    }
  };
}

/** pull_repo_failed / push_repo_failed (ACTION_LOG_AUDIT_*_FAILURES): endpoints/api `log_unauthorized`. */
function failed(push: boolean): KindHandler {
  return (g) => {
    const rng = g.rng;
    const repo = g.pickRepo();
    const ns = g.ns!;
    const actor = push ? (rng.float() < 0.5 ? g.actorOf(ns, 0.4) : g.pickUser()) : rng.float() < 0.6 ? null : g.pickUser();
    g.perform(actor);
    g.channel = Channel.Registry;
    let repoJson = repo.json;
    let message = UNAUTHORIZED;
    if (rng.float() < 0.15) {
      repoJson = JSON.stringify(`${rng.pick(REPO_BASES)}-${rng.pick(GONE_SUFFIXES)}`);
      message = '"Repository does not exist"';
      g.repository = '';
    }
    const slot = g.tagSlot();
    const byDigest = !push && rng.float() < 0.3;
    const ref = byDigest ? g.digest(repo, slot, g.generation(repo)) : g.tagName(repo, slot);
    const refFrag = byDigest ? ',"manifest_digest":"' + ref + '"' : ',"tag":' + g.tagJson(repo, slot);
    g.metadata = '{"namespace":' + ns.json + ',"repo":' + repoJson + refFrag + ',"message":' + message + '}';
    if (g.extended) {
      g.registryAgent(actor);
      g.method = push ? 'PUT' : 'GET';
      g.path = `/v2/${g.namespace}/${JSON.parse(repoJson) as string}/manifests/${ref}`;
    }
  };
}

/** delete_tag: from the registry (v2 DELETE, track_and_log with tag + digest) or the API. */
const deleteTag: KindHandler = (g) => {
  const rng = g.rng;
  const repo = g.pickRepo();
  const slot = 1 + rng.int(11);
  if (rng.float() < 0.3) {
    const actor = g.actorOf(g.ns!, 0.6);
    g.perform(actor);
    g.channel = Channel.Registry;
    const ua = g.registryAgent(actor);
    const d = g.digest(repo, slot, g.generation(repo));
    g.metadata = repo.open + ua + ',"tag":' + g.tagJson(repo, slot) + ',"digest":"' + d + '"' + g.tail;
    if (g.extended) {
      g.method = 'DELETE';
      g.path = `/v2/${g.namespace}/${repo.name}/manifests/${d}`;
    }
    return;
  }
  const a = g.actorOf(g.ns!, 0);
  g.perform(a);
  g.metadata = '{"username":' + a.json + ',"repo":' + repo.json + ',"namespace":' + g.ns!.json + ',"tag":' + g.tagJson(repo, slot) + '}';
  g.api('DELETE', repoPath(g, `/tag/${g.tagName(repo, slot)}`));
};

/** create_tag, move_tag, revert_tag, change_tag_expiration, permanently_delete_tag (endpoints/api/tag.py). */
function tagApi(kind: 'create' | 'move' | 'revert' | 'expire' | 'purge'): KindHandler {
  return (g) => {
    const rng = g.rng;
    const repo = g.pickRepo();
    const a = g.actorOf(g.ns!, 0);
    g.perform(a);
    const slot = kind === 'create' ? 1 + rng.int(11) : g.tagSlot();
    const tag = g.tagJson(repo, slot);
    const gen = g.generation(repo);
    const head = '{"username":' + a.json + ',"repo":' + repo.json + ',"tag":' + tag;
    const nsPart = ',"namespace":' + g.ns!.json;
    const tagPath = `/tag/${g.tagName(repo, slot)}`;
    switch (kind) {
      case 'create':
      case 'move': {
        const orig = kind === 'create' ? 'null' : '"' + g.digest(repo, slot, gen - 1) + '"';
        g.metadata = head + nsPart + ',"manifest_digest":"' + g.digest(repo, slot, gen) + '","original_manifest_digest":' + orig + '}';
        g.api('PUT', repoPath(g, tagPath));
        return;
      }
      case 'revert':
        g.metadata = head + ',"manifest_digest":"' + g.digest(repo, slot, gen - 1 - rng.int(3)) + '"}';
        g.api('POST', repoPath(g, `${tagPath}/restore`));
        return;
      case 'expire': {
        const exp = Math.floor(g.t / 1000) + (7 + rng.int(50)) * 86400;
        g.metadata = head + nsPart + ',"expiration_date":' + exp + ',"old_expiration_date":null}';
        g.api('PUT', repoPath(g, tagPath));
        return;
      }
      case 'purge':
        g.metadata = '{"username":' + a.json + ',"repo":' + repo.json + nsPart + ',"tag":' + tag + ',"manifest_digest":"' + g.digest(repo, slot, gen - 1) + '"}';
        g.api('POST', repoPath(g, `${tagPath}/expire`));
        return;
    }
  };
}

/** manifest_label_add / manifest_label_delete (endpoints/api/manifest.py). */
function label(add: boolean): KindHandler {
  return (g) => {
    const rng = g.rng;
    const repo = g.pickRepo();
    g.perform(g.actorOf(g.ns!, 0.2));
    const id = g.uuid();
    const d = g.digest(repo, g.tagSlot(), g.generation(repo));
    const kv = LABEL_JSON[rng.int(LABEL_JSON.length)]!;
    g.metadata = '{"id":"' + id + '",' + kv + ',"manifest_digest":"' + d + '"' + (add ? ',"media_type":"text/plain"' : '') + ',"namespace":' + g.ns!.json + ',"repo":' + repo.json + '}';
    g.api(add ? 'POST' : 'DELETE', repoPath(g, `/manifest/${d}/labels${add ? '' : '/' + id}`));
  };
}

/** Repository administration (endpoints/api/repository.py, permission.py, repositorynotification.py). */
function repoAdmin(kind: 'create' | 'delete' | 'describe' | 'visibility' | 'perm' | 'addperm' | 'delperm' | 'notify'): KindHandler {
  return (g) => {
    const rng = g.rng;
    const repo = g.pickRepo();
    const ns = g.ns!;
    const a = kind === 'create' ? g.actorOf(ns, 0.1) : g.adminOf(ns);
    g.perform(a);
    const base = '{"repo":' + repo.json + ',"namespace":' + ns.json;
    switch (kind) {
      case 'create':
        g.metadata = base + '}';
        g.api('POST', '/api/v1/repository');
        return;
      case 'delete': {
        const gone = `${repo.name}-${rng.pick(GONE_SUFFIXES)}`;
        g.repository = '';
        g.metadata = '{"repo":' + JSON.stringify(gone) + ',"namespace":' + ns.json + '}';
        g.api('DELETE', `/api/v1/repository/${ns.name}/${gone}`);
        return;
      }
      case 'describe':
        g.metadata = base + ',"description":' + JSON.stringify(rng.pick(DESCRIPTIONS)) + '}';
        g.api('PUT', repoPath(g, ''));
        return;
      case 'visibility':
        g.metadata = base + ',"visibility":"' + (rng.float() < 0.5 ? 'public' : 'private') + '"}';
        g.api('POST', repoPath(g, '/changevisibility'));
        return;
      case 'notify':
        g.metadata = base + ',"notification_id":"' + g.uuid() + '","event":"' + rng.pick(NOTIFY_EVENTS) + '","method":"' + rng.pick(NOTIFY_METHODS) + '"}';
        g.api('POST', repoPath(g, '/notification/'));
        return;
      default: {
        const team = ns.isOrg && rng.float() < 0.35 ? rng.pick(ns.teams) : null;
        const role = kind === 'delperm' ? '' : ',"role":' + rng.pick(ROLES);
        if (team !== null) {
          g.metadata = '{"team":' + JSON.stringify(team) + ',"repo":' + repo.json + role + '}';
          g.api(kind === 'delperm' ? 'DELETE' : 'PUT', repoPath(g, `/permissions/team/${team}`));
          return;
        }
        const target = g.actorOf(ns, 0.4);
        g.metadata = '{"username":' + target.json + ',"repo":' + repo.json + ',"namespace":' + ns.json + role + '}';
        g.api(kind === 'delperm' ? 'DELETE' : 'PUT', repoPath(g, `/permissions/user/${target.name}`));
      }
    }
  };
}

export const repoKindHandlers: Record<string, KindHandler> = {
  pull_repo: registry('pull'),
  push_repo: registry('push'),
  repo_verb: registry('verb'),
  pull_repo_failed: failed(false),
  push_repo_failed: failed(true),
  delete_tag: deleteTag,
  create_tag: tagApi('create'),
  move_tag: tagApi('move'),
  revert_tag: tagApi('revert'),
  change_tag_expiration: tagApi('expire'),
  permanently_delete_tag: tagApi('purge'),
  manifest_label_add: label(true),
  manifest_label_delete: label(false),
  create_repo: repoAdmin('create'),
  delete_repo: repoAdmin('delete'),
  set_repo_description: repoAdmin('describe'),
  change_repo_visibility: repoAdmin('visibility'),
  change_repo_permission: repoAdmin('perm'),
  add_repo_permission: repoAdmin('addperm'),
  delete_repo_permission: repoAdmin('delperm'),
  add_repo_notification: repoAdmin('notify'),
};
