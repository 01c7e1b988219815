/**
 * Handlers for namespace-level and service-level kinds: these carry no
 * repository, and some (failed logins of unknown users, service keys) no
 * namespace either. Metadata follows endpoints/v2/v2auth.py, auth/credentials.py,
 * endpoints/api/{user,robot,team,organization,appspecifictokens,logs,superuser}.py
 * and endpoints/keyserver.
 */
import { randomBytesFrom } from './rng.ts';
import { EMAIL_DOMAINS, ROBOT_SHORTNAMES, SERVICES, TEAM_NAMES } from './names.ts';
import { Channel, QUAY_HOST, type KindHandler, type RowGen } from './rowGen.ts';
import type { ActorModel, NsModel } from './world.ts';

const BOGUS_USERS = ['admin', 'root', 'test', 'guest', 'jenkins', 'deploy', 'user'] as const;
const TOKEN_TITLES = ['laptop', 'ci', 'podman-desktop', 'build-server', 'skopeo-sync', 'jenkins', 'dev-vm', 'kubeconfig'] as const;
const APP_NAMES = ['release-dashboard', 'image-scanner', 'deploy-bot', 'audit-exporter', 'backstage', 'grafana-quay'] as const;
const ROBOT_DESCRIPTIONS = ['CI pulls', 'Deploys to production', 'Mirror sync', 'Read-only access for clusters', ''] as const;

function ownNamespace(g: RowGen, u: ActorModel): NsModel {
  const ns = g.world.namespaces[u.ns]!;
  g.ns = ns;
  g.namespace = ns.name;
  return ns;
}

/** An organization (80 %) or a user namespace, for actions that exist on both. */
function orgOrUser(g: RowGen, orgShare: number): NsModel {
  if (g.rng.float() < orgShare) return g.pickOrg();
  return ownNamespace(g, g.pickUser());
}

function nsApiPath(ns: NsModel, suffix: string): string {
  return ns.isOrg ? `/api/v1/organization/${ns.name}${suffix}` : `/api/v1/user${suffix}`;
}

/** login_success: `docker login` (v2auth) by a user or a robot, or a web sign-in. */
const loginSuccess: KindHandler = (g) => {
  const rng = g.rng;
  const w = g.world;
  const ns = w.namespaces[w.active[w.activeAlias.sample(rng)]!]!;
  const a = g.actorOf(ns, 0.45);
  g.perform(a);
  if (a.isRobot) {
    g.ns = ns;
    g.namespace = ns.name;
    g.metadata = '{"kind":"robot","robot":' + a.json + ',"type":"v2auth","useragent":' + g.registryAgent(a) + '}';
  } else {
    ownNamespace(g, a);
    if (rng.float() < 0.2) {
      g.metadata = '{"type":"quayauth","useragent":' + g.apiAgent() + '}';
      g.api('POST', '/api/v1/signin');
      return;
    }
    g.metadata = '{"kind":"user","type":"v2auth","useragent":' + g.registryAgent(a) + '}';
  }
  g.channel = Channel.V2Auth;
  if (g.extended) g.path = `/v2/auth?account=${encodeURIComponent(a.name)}&service=${QUAY_HOST}`;
};

/** login_failure: wrong password (no namespace, no performer) or a bad robot token. */
const loginFailure: KindHandler = (g) => {
  const rng = g.rng;
  g.perform(null);
  g.channel = Channel.V2Auth;
  let account: string;
  if (rng.float() < 0.6) {
    account = rng.float() < 0.7 ? g.pickUser().name : rng.pick(BOGUS_USERS);
    g.metadata = '{"type":"v2auth","kind":"user","username":' + JSON.stringify(account) + ',"useragent":' + g.registryAgent(null) + ',"message":"Invalid Username or Password"}';
  } else {
    const ns = g.pickOrg();
    const short = rng.pick(ROBOT_SHORTNAMES);
    account = `${ns.name}+${short}`;
    const known = ns.robots.some((r) => g.world.robots[r]!.name === account);
    const message = known ? '"Invalid token for robot"' : JSON.stringify(`Could not find robot with username: ${account}`);
    g.metadata = '{"type":"v2auth","kind":"robot","robot":' + JSON.stringify(account) + ',"username":' + ns.json + ',"useragent":' + g.registryAgent(null) + ',"message":' + message + '}';
  }
  if (g.extended) g.path = `/v2/auth?account=${encodeURIComponent(account)}&service=${QUAY_HOST}`;
};

const logoutSuccess: KindHandler = (g) => {
  const u = g.pickUser();
  ownNamespace(g, u);
  g.perform(u);
  g.api('POST', '/api/v1/signout');
};

/** create_robot, delete_robot, regenerate_robot_token (endpoints/api/robot.py). */
function robotAdmin(kind: 'create' | 'delete' | 'regenerate'): KindHandler {
  return (g) => {
    const rng = g.rng;
    const ns = orgOrUser(g, 0.85);
    g.perform(g.adminOf(ns));
    let short: string;
    if (kind === 'delete' || ns.robots.length === 0) short = `${rng.pick(['old', 'tmp', 'legacy', 'test'])}_${rng.pick(ROBOT_SHORTNAMES)}`;
    else short = g.world.robots[ns.robots[rng.int(ns.robots.length)]!]!.name.slice(ns.name.length + 1);
    const robot = JSON.stringify(short);
    const base = nsApiPath(ns, `/robots/${short}`);
    if (kind === 'create') {
      g.metadata = '{"robot":' + robot + ',"description":' + JSON.stringify(rng.pick(ROBOT_DESCRIPTIONS)) + ',"unstructured_metadata":{}}';
      g.api('PUT', base);
    } else {
      g.metadata = '{"robot":' + robot + '}';
      g.api(kind === 'delete' ? 'DELETE' : 'POST', kind === 'delete' ? base : `${base}/regenerate`);
    }
  };
}

/** org_add_team_member, org_remove_team_member, org_create_team (endpoints/api/team.py). */
function team(kind: 'add' | 'remove' | 'create'): KindHandler {
  return (g) => {
    const rng = g.rng;
    const ns = g.pickOrg();
    g.perform(g.adminOf(ns));
    const teamName = kind === 'create' ? rng.pick(TEAM_NAMES) : rng.pick(ns.teams);
    if (kind === 'create') {
      g.metadata = '{"team":' + JSON.stringify(teamName) + '}';
      g.api('PUT', `/api/v1/organization/${ns.name}/team/${teamName}`);
      return;
    }
    const member = g.world.users[ns.members[rng.int(ns.members.length)]!]!;
    g.metadata = '{"member":' + member.json + ',"team":' + JSON.stringify(teamName) + '}';
    g.api(kind === 'add' ? 'PUT' : 'DELETE', `/api/v1/organization/${ns.name}/team/${teamName}/members/${member.name}`);
  };
}

const orgCreate: KindHandler = (g) => {
  const ns = g.pickOrg();
  g.perform(g.adminOf(ns));
  g.metadata = '{"email":null,"namespace":' + ns.json + '}';
  g.api('POST', '/api/v1/organization/');
};

const createApplication: KindHandler = (g) => {
  const rng = g.rng;
  const ns = g.pickOrg();
  g.perform(g.adminOf(ns));
  const name = JSON.stringify(rng.pick(APP_NAMES));
  const uri = `https://${ns.name}.apps.example.com`;
  const clientId = randomBytesFrom(rng, 15).toString('base64').replace(/[^A-Za-z0-9]/g, 'Q').toUpperCase().slice(0, 20);
  g.metadata = '{"name":' + name + ',"redirect_uri":"' + uri + '/oauth/callback","application_uri":"' + uri + '","description":"","application_name":' + name + ',"client_id":"' + clientId + '"}';
  g.api('POST', `/api/v1/organization/${ns.name}/applications`);
};

const exportLogs: KindHandler = (g) => {
  const rng = g.rng;
  const ns = orgOrUser(g, 0.7);
  const a = g.adminOf(ns);
  g.perform(a);
  const byMail = rng.float() < 0.4;
  const url = byMail ? 'null' : `"https://hooks.example.com/quay/${ns.name}/exports"`;
  const email = byMail ? (a.email === null ? `"${a.name}@example.com"` : JSON.stringify(a.email)) : 'null';
  const repo = ns.repos.length > 0 && rng.float() < 0.3 ? ',"repo":' + ns.repos[rng.int(ns.repos.length)]!.json : '';
  g.metadata = '{"date/time":' + Math.floor(g.t / 1000) + ',"export_id":"' + g.uuid() + '","message":"queued for export","url":' + url + ',"email":' + email + repo + '}';
  g.api('POST', nsApiPath(ns, '/exportlogs'));
};

const userCreate: KindHandler = (g) => {
  const u = g.pickUser();
  ownNamespace(g, u);
  const email = u.email === null ? 'null' : JSON.stringify(u.email);
  if (g.rng.float() < 0.4) {
    const su = g.world.users[g.world.superuser]!;
    g.perform(su);
    g.metadata = '{"email":' + email + ',"username":' + u.json + ',"superuser":' + su.json + '}';
    g.api('POST', '/api/v1/superuser/users/');
  } else {
    g.perform(null);
    g.metadata = '{"email":' + email + ',"username":' + u.json + '}';
    g.api('POST', '/api/v1/user/');
  }
};

const userChangeEmail: KindHandler = (g) => {
  let u = g.pickUser();
  if (u.email === null) u = g.world.users[g.world.superuser]!;
  ownNamespace(g, u);
  g.perform(u);
  const old = `${u.name.replace(/[^a-z0-9.]/g, '.')}@${g.rng.pick(EMAIL_DOMAINS)}`;
  g.metadata = '{"email":' + JSON.stringify(u.email) + ',"old_email":' + JSON.stringify(old) + '}';
  g.api('PUT', '/api/v1/user/');
};

function appToken(create: boolean): KindHandler {
  return (g) => {
    const u = g.pickUser();
    ownNamespace(g, u);
    g.perform(u);
    const id = g.uuid();
    g.metadata = '{"app_specific_token_title":"' + g.rng.pick(TOKEN_TITLES) + '","app_specific_token":"' + id + '"}';
    g.api(create ? 'POST' : 'DELETE', create ? '/api/v1/user/apptoken' : `/api/v1/user/apptoken/${id}`);
  };
}

/** service_key_create / service_key_approve: a superuser action or a service rotating its key; no namespace. */
function serviceKey(approve: boolean): KindHandler {
  return (g) => {
    const rng = g.rng;
    const kid = randomBytesFrom(rng, 32).toString('base64url');
    const service = rng.pick(SERVICES);
    const expires = Math.floor(g.t / 1000) + (30 + rng.int(365)) * 86400;
    if (approve || rng.float() < 0.6) {
      g.perform(g.world.users[g.world.superuser]!);
      const name = JSON.stringify(`${service} key ${1 + rng.int(9)}`);
      g.metadata = approve
        ? '{"kid":"' + kid + '","service":"' + service + '","name":' + name + ',"expiration_date":' + expires + '}'
        : '{"kid":"' + kid + '","preshared":true,"service":"' + service + '","name":' + name + ',"expiration_date":' + expires + ',"auto_approved":true}';
      g.api(approve ? 'PUT' : 'POST', approve ? `/api/v1/superuser/approvedkeys/${kid}` : '/api/v1/superuser/keys');
      return;
    }
    g.perform(null);
    g.metadata = '{"kid":"' + kid + '","preshared":false,"service":"' + service + '","name":"","expiration_date":' + expires + ',"user_agent":"Go-http-client/1.1","ip":' + JSON.stringify(g.ip === '' ? null : g.ip) + '}';
    g.api('PUT', `/keys/services/${service}/keys/${kid}`);
    if (g.extended) g.agent = 'Go-http-client/1.1';
  };
}

export const accountKindHandlers: Record<string, KindHandler> = {
  login_success: loginSuccess,
  login_failure: loginFailure,
  logout_success: logoutSuccess,
  create_robot: robotAdmin('create'),
  delete_robot: robotAdmin('delete'),
  regenerate_robot_token: robotAdmin('regenerate'),
  org_add_team_member: team('add'),
  org_remove_team_member: team('remove'),
  org_create_team: team('create'),
  org_create: orgCreate,
  create_application: createApplication,
  export_logs_success: exportLogs,
  user_create: userCreate,
  user_change_email: userChangeEmail,
  create_app_specific_token: appToken(true),
  revoke_app_specific_token: appToken(false),
  service_key_create: serviceKey(false),
  service_key_approve: serviceKey(true),
};
