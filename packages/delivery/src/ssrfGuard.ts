/**
 * The SSRF guard for export callbacks: Quay's rules (util/security/ssrf.py,
 * see docs/exports.md), plus what Quay lacks — the guard returns the address it
 * vetted, and the callback connects to exactly that address (see
 * `pinnedLookup`), so a second DNS answer can never redirect the request.
 *
 * Order of checks, as Quay: trim; scheme http|https; no credentials; a
 * hostname; blocked names (unless allow-listed); IP literal ⇒ check it; else
 * resolve and check every address. Allow-list entries (hostnames or CIDRs)
 * bypass the block lists, never the format checks.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export type IpFamily = 4 | 6;

export interface ResolvedAddress {
  address: string;
  family: IpFamily;
}

/** Resolves a hostname to every address it has (the test hook replaces DNS with this). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * `format` problems are reported verbatim (Quay's ValueError); `blocked` ones must
 * be reported generically ("Invalid callback URL") so the answer leaks no topology.
 */
export class SsrfError extends Error {
  override name = 'SsrfError';
  constructor(
    readonly kind: 'format' | 'blocked',
    message: string,
    /** True when retrying later may succeed (DNS failure). */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** The message Quay's API answers for any blocked callback URL. */
export const MSG_INVALID_CALLBACK_URL = 'Invalid callback URL';

// ---- address classification ----

type Net = readonly [string, number];

/** Quay's explicit BLOCKED_NETWORKS. */
const QUAY_BLOCKED_V4: Net[] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4], ['255.255.255.255', 32],
];
const QUAY_BLOCKED_V6: Net[] = [
  ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96],
];
/**
 * What Python's `not ip.is_global or ip.is_multicast or ip.is_site_local` adds for IPv6
 * (IANA special-purpose registry), plus the deprecated IPv4-compatible block ::/96.
 */
const NOT_GLOBAL_V6: Net[] = [
  ['::', 96], ['64:ff9b:1::', 48], ['2001::', 23], ['2002::', 16], ['3fff::', 20], ['ff00::', 8], ['fec0::', 10],
];
/** Inside 2001::/23 but globally reachable (IANA), so Python counts them as global. */
const GLOBAL_EXCEPTIONS_V6: Net[] = [
  ['2001:1::1', 128], ['2001:1::2', 128], ['2001:3::', 32], ['2001:4:112::', 48], ['2001:20::', 28], ['2001:30::', 28],
];

function blockList(v4: Net[], v6: Net[]): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

// One list per family: node's BlockList matches IPv4-mapped IPv6 rules against plain IPv4
// addresses (::ffff:0:0/96 would block every IPv4 address), so the families never share a list.
const QUAY_BLOCKED_4 = blockList(QUAY_BLOCKED_V4, []);
const QUAY_BLOCKED_6 = blockList([], QUAY_BLOCKED_V6);
const NOT_GLOBAL = blockList([], NOT_GLOBAL_V6);
const V6_EXCEPTIONS = blockList([], GLOBAL_EXCEPTIONS_V6);

/** True when an address must not be reached by a user-supplied URL (unparseable ⇒ true). */
export function isBlockedAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return QUAY_BLOCKED_4.check(ip, 'ipv4');
  if (family === 6) {
    if (QUAY_BLOCKED_6.check(ip, 'ipv6') || QUAY_BLOCKED_4.check(ip, 'ipv6')) return true;
    // Every exception lies inside 2001::/23 and nowhere else in NOT_GLOBAL.
    return NOT_GLOBAL.check(ip, 'ipv6') && !V6_EXCEPTIONS.check(ip, 'ipv6');
  }
  return true;
}

// ---- allow-list ----

const BLOCKED_HOSTNAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.azure.internal',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
]);

interface CidrEntry {
  family: IpFamily;
  list: BlockList;
}

/** Quay's SSRF_ALLOWED_HOSTS: hostnames (case-insensitive) and CIDRs (a bare IP is a /32 or /128). */
export class AllowList {
  readonly hosts = new Set<string>();
  readonly cidrs: CidrEntry[] = [];

  /** Comma- or whitespace-separated entries, e.g. `hooks.corp.example,10.20.0.0/16,127.0.0.1`. */
  static parse(value: string | readonly string[] | undefined): AllowList {
    const allow = new AllowList();
    const entries = typeof value === 'string' ? value.split(/[\s,]+/) : (value ?? []);
    for (const raw of entries) {
      const entry = raw.trim().replace(/^\[(.*)\]$/, '$1');
      if (!entry) continue;
      const [addr, prefixText] = entry.split('/', 2) as [string, string | undefined];
      const family = isIP(addr);
      if (family === 4 || family === 6) {
        const max = family === 4 ? 32 : 128;
        const prefix = prefixText === undefined ? max : Number(prefixText);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
          throw new RangeError(`QUAYLOGS_SSRF_ALLOWED_HOSTS: ${JSON.stringify(raw)} is not a valid CIDR`);
        }
        const list = new BlockList();
        list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
        allow.cidrs.push({ family, list });
      } else {
        allow.hosts.add(entry.toLowerCase());
      }
    }
    return allow;
  }

  /** Whether an address lies in a CIDR entry (same family only, like Python's ipaddress). */
  coversAddress(ip: string): boolean {
    const family = isIP(ip);
    if (family !== 4 && family !== 6) return false;
    return this.cidrs.some((c) => c.family === family && c.list.check(ip, family === 4 ? 'ipv4' : 'ipv6'));
  }

  /** Quay's `_is_allowed(hostname, ip)`. */
  allows(hostname: string, ip: string | null): boolean {
    if (this.hosts.has(hostname.toLowerCase())) return true;
    if (ip !== null && this.coversAddress(ip)) return true;
    return this.coversAddress(hostname);
  }
}

// ---- the guard ----

export interface SsrfPolicy {
  allowList: AllowList;
  /** DNS by default (`getaddrinfo`, every address); tests map names to addresses here. */
  resolve?: Resolver;
}

export interface VettedTarget {
  url: URL;
  /** Host without IPv6 brackets, lower-case. */
  hostname: string;
  port: number;
  /** Every address the name resolved to; all of them passed the checks. */
  addresses: ResolvedAddress[];
  /** The address the request will connect to. */
  address: ResolvedAddress;
}

export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function parseUrl(raw: string): URL {
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase() ?? '';
  if (scheme !== 'http' && scheme !== 'https') {
    throw new SsrfError('format', `Invalid URL scheme '${scheme}': only HTTP and HTTPS are allowed`);
  }
  // `http://`, `http://user@`, `http://:80/`: Quay's "no hostname" rather than a parse error.
  const authority = /^[A-Za-z]+:\/\/([^/?#]*)/.exec(raw)?.[1];
  if (authority !== undefined) {
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    if (hostPort === '' || hostPort.startsWith(':')) {
      if (authority.includes('@')) throw new SsrfError('format', 'URLs with embedded credentials are not allowed');
      throw new SsrfError('format', 'URL must include a hostname');
    }
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SsrfError('format', 'Invalid URL format');
  }
  if (url.username !== '' || url.password !== '') {
    throw new SsrfError('format', 'URLs with embedded credentials are not allowed');
  }
  if (url.hostname === '') throw new SsrfError('format', 'URL must include a hostname');
  return url;
}

function blockedByName(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '');
  return BLOCKED_HOSTNAMES.has(name) || name.endsWith('.internal') || name.endsWith('.local');
}

/**
 * Checks a callback URL and returns the address to connect to. Throws SsrfError:
 * `format` (message safe to show), or `blocked` (show MSG_INVALID_CALLBACK_URL).
 */
export async function vetUrl(rawInput: string, policy: SsrfPolicy): Promise<VettedTarget> {
  const raw = (rawInput ?? '').trim();
  if (!raw) throw new SsrfError('format', 'External registry URL is required');
  const url = parseUrl(raw);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const allow = policy.allowList;

  const literal = isIP(hostname);
  if (literal === 4 || literal === 6) {
    if (isBlockedAddress(hostname) && !allow.allows(hostname, hostname)) {
      throw new SsrfError('blocked', 'URL points to a private or reserved IP address');
    }
    const address = { address: hostname, family: literal } as const;
    return { url, hostname, port, addresses: [address], address };
  }

  const byName = blockedByName(hostname);
  const nameAllowed = allow.allows(hostname, null);
  // Quay resolves first and may answer "Cannot resolve hostname" for a blocked name; with
  // no CIDR entry that could rescue the name, we refuse it without asking DNS at all.
  if (byName && !nameAllowed && allow.cidrs.length === 0) {
    throw new SsrfError('blocked', `Hostname '${hostname}' is not allowed`);
  }

  let addresses: ResolvedAddress[];
  try {
    addresses = await (policy.resolve ?? systemResolver)(hostname);
  } catch {
    throw new SsrfError('format', `Cannot resolve hostname '${hostname}'`, true);
  }
  if (addresses.length === 0) throw new SsrfError('format', `Cannot resolve hostname '${hostname}'`, true);

  if (byName && !nameAllowed && !addresses.some((a) => allow.allows(hostname, a.address))) {
    throw new SsrfError('blocked', `Hostname '${hostname}' is not allowed`);
  }
  for (const a of addresses) {
    if (isBlockedAddress(a.address) && !allow.allows(hostname, a.address)) {
      throw new SsrfError('blocked', 'URL resolves to a private or reserved IP address');
    }
  }
  return { url, hostname, port, addresses, address: addresses[0]! };
}

/**
 * A `lookup` for net/tls.connect that answers with the vetted address only: the
 * connection goes where the guard looked, whatever DNS says a moment later. The
 * Host header and TLS server name still carry the URL's hostname.
 */
export function pinnedLookup(target: Pick<VettedTarget, 'address'>): LookupFunction {
  const { address, family } = target.address;
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (typeof options === 'function') {
      (options as (...args: unknown[]) => void)(null, address, family);
    } else if (options?.all) {
      callback(null, [{ address, family }]);
    } else {
      callback(null, address, family);
    }
  }) as unknown as LookupFunction;
}
