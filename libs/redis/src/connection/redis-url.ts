/**
 * Parses REDIS_URL into a connection target. One variable selects the topology so that the same
 * build runs against a laptop Redis, a managed TLS endpoint, a Cluster or a Sentinel group:
 *
 *   redis://[user:pass@]host:port[/db]           standalone
 *   rediss://...                                 standalone over TLS
 *   redis-cluster://[user:pass@]h1:p1,h2:p2      Cluster (seed nodes); rediss-cluster:// for TLS
 *   redis-sentinel://[user:pass@]h1:p1,h2:p2/mymaster[/db]   Sentinel; rediss-sentinel:// for TLS
 */
export interface RedisNode {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | ({ kind: 'standalone'; node: RedisNode; db: number } & Credentials)
  | ({ kind: 'cluster'; nodes: RedisNode[] } & Credentials)
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; masterName: string; db: number } & Credentials);

export class InvalidRedisUrlError extends Error {
  constructor(reason: string) {
    super(`REDIS_URL is invalid: ${reason}`);
    this.name = 'InvalidRedisUrlError';
  }
}

const SCHEMES: Record<string, { kind: RedisTarget['kind']; tls: boolean }> = {
  'redis:': { kind: 'standalone', tls: false },
  'rediss:': { kind: 'standalone', tls: true },
  'redis-cluster:': { kind: 'cluster', tls: false },
  'rediss-cluster:': { kind: 'cluster', tls: true },
  'redis-sentinel:': { kind: 'sentinel', tls: false },
  'rediss-sentinel:': { kind: 'sentinel', tls: true },
};

export function parseRedisUrl(raw: string): RedisTarget {
  const match = /^([a-z-]+:)\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/i.exec(raw.trim());
  if (!match) throw new InvalidRedisUrlError('expected scheme://[user:password@]host:port[/...]');
  const [, schemeRaw, userInfo, hostList, pathRaw = ''] = match;
  const scheme = SCHEMES[schemeRaw.toLowerCase()];
  if (!scheme) {
    throw new InvalidRedisUrlError(
      `unsupported scheme "${schemeRaw}" (use ${Object.keys(SCHEMES).join(', ')})`,
    );
  }
  const credentials: Credentials = { tls: scheme.tls, ...parseUserInfo(userInfo) };
  const nodes = hostList.split(',').map(parseNode);
  const pathParts = pathRaw.split('/').filter((part) => part.length > 0);

  switch (scheme.kind) {
    case 'standalone':
      if (nodes.length !== 1) throw new InvalidRedisUrlError('a standalone URL takes one host');
      return { kind: 'standalone', node: nodes[0], db: parseDb(pathParts[0]), ...credentials };
    case 'cluster':
      if (pathParts.length > 0) throw new InvalidRedisUrlError('Cluster has no database number');
      return { kind: 'cluster', nodes, ...credentials };
    case 'sentinel': {
      const masterName = pathParts[0];
      if (!masterName) throw new InvalidRedisUrlError('a sentinel URL needs /<master-name>');
      return {
        kind: 'sentinel',
        sentinels: nodes,
        masterName,
        db: parseDb(pathParts[1]),
        ...credentials,
      };
    }
  }
}

function parseUserInfo(userInfo: string | undefined): Omit<Credentials, 'tls'> {
  if (!userInfo) return {};
  const separator = userInfo.indexOf(':');
  const username = decodePart(separator < 0 ? userInfo : userInfo.slice(0, separator));
  const password = separator < 0 ? undefined : decodePart(userInfo.slice(separator + 1));
  // redis://:secret@host means "password only" (the default user).
  return { username: username || undefined, password };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidRedisUrlError('bad percent-encoding in the credentials');
  }
}

function parseNode(hostPort: string): RedisNode {
  // No '@' in a host: an unencoded '@' in a password must fail loudly, not shift into the host.
  const match = /^(\[[0-9a-f:.]+\]|[^:@[\]]+)(?::(\d{1,5}))?$/i.exec(hostPort);
  if (!match) throw new InvalidRedisUrlError('bad host (percent-encode @ : / in credentials)');
  const host = match[1].replace(/^\[|\]$/g, '');
  const port = match[2] === undefined ? 6379 : Number(match[2]);
  if (port < 1 || port > 65535) throw new InvalidRedisUrlError(`bad port in "${hostPort}"`);
  return { host, port };
}

function parseDb(part: string | undefined): number {
  if (part === undefined) return 0;
  if (!/^\d{1,2}$/.test(part)) throw new InvalidRedisUrlError(`bad database number "${part}"`);
  return Number(part);
}

/** The URL with its password replaced, for logs. */
export function redactRedisUrl(raw: string): string {
  return raw.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
