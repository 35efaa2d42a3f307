/** What an audited route does, in the record's words. */
export interface AuditedRoute {
  /** Singular noun: session, memory, cache, admin, audit... */
  resourceType: string;
  operation: string;
  /** Reads are recorded only with AUDIT_READS=true (their refusals 401/403/429 always). */
  read: boolean;
}

const PREFIX = '/api/v1';

/** Routes whose name the generic rule below would get wrong or too vague. */
const NAMED: Record<string, [resourceType: string, operation: string, read?: 'read']> = {
  'POST /sessions': ['session', 'create'],
  'POST /sessions/batch': ['session', 'batch_create'],
  'POST /sessions/batch-get': ['session', 'batch_read', 'read'],
  'POST /sessions/batch-delete': ['session', 'batch_delete'],
  'GET /sessions': ['session', 'list', 'read'],
  'PUT /sessions/:session_id/status': ['session', 'status_update'],
  'GET /sessions/:session_id/status': ['session', 'read_status', 'read'],
  'POST /agents/:agent_id/memory': ['memory', 'create'],
  'GET /agents/:agent_id/memory': ['memory', 'list', 'read'],
  'GET /agents/:agent_id/memory/:session_id': ['memory', 'read', 'read'],
  'PUT /agents/:agent_id/memory/:session_id': ['memory', 'replace'],
  'PATCH /agents/:agent_id/memory/:session_id': ['memory', 'patch'],
  'DELETE /agents/:agent_id/memory/:session_id': ['memory', 'delete'],
  'GET /memory/sessions/:session_id': ['memory', 'list', 'read'],
  'GET /memory/agents': ['memory', 'list', 'read'],
  'POST /admin/reencrypt': ['admin', 'reencrypt'],
  // A backup leaves with the tenant's data: recorded whatever AUDIT_READS says (decrypt included).
  'GET /admin/export': ['admin', 'export'],
  'POST /admin/import': ['admin', 'import'],
  // A subject's data leaving, or being erased: recorded whatever AUDIT_READS says.
  'DELETE /subjects/:user_id': ['subject', 'erase'],
  'GET /subjects/:user_id/export': ['subject', 'export'],
  'POST /cache/invalidate': ['cache', 'invalidate'],
  'POST /cache/batch-get': ['cache', 'batch_read', 'read'],
  'POST /cache/:cache_key': ['cache', 'set'],
  'GET /cache/stats': ['cache', 'stats', 'read'],
  'GET /audit': ['audit', 'list', 'read'],
  // Reading the trail in bulk and checking it are recorded whatever AUDIT_READS says.
  'GET /audit/export': ['audit', 'export'],
  'GET /audit/verify': ['audit', 'verify'],
  // A subscription reads the tenant's changes for as long as it stays open: recorded when it opens.
  'GET /events': ['event', 'subscribe'],
  'POST /webhooks/:webhook_id/deliveries/:delivery_id/redeliver': ['webhook', 'redeliver'],
};

const VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
  GET: 'read',
};

/** Not audited: health probes and anything outside the versioned API (docs, metrics). */
const UNAUDITED = /^\/api\/v1\/health(\/|$)/;

/**
 * The audited operation of a route (`url` is the route template, e.g. /api/v1/sessions/:session_id),
 * or null when the route is not audited. Routes not named above get `<verb>` on the singular of
 * their first path segment, so a route added later is audited without a change here.
 */
export function auditedRoute(method: string, url: string | undefined): AuditedRoute | null {
  if (url === undefined) return null;
  // Asked twice per request (frame, then answer); `url` is a route template, so the set is bounded.
  const known = `${method} ${url}`;
  let route = decided.get(known);
  if (route === undefined) {
    route = decide(method, url);
    decided.set(known, route);
  }
  return route;
}

const decided = new Map<string, AuditedRoute | null>();

function decide(method: string, url: string): AuditedRoute | null {
  if (!url.startsWith(`${PREFIX}/`) || UNAUDITED.test(url)) return null;
  const path = url.slice(PREFIX.length);
  const named = NAMED[`${method} ${path}`];
  if (named) return { resourceType: named[0], operation: named[1], read: named[2] === 'read' };
  const verb = VERBS[method];
  if (verb === undefined) return null;
  const segment = path.split('/')[1] ?? '';
  return { resourceType: singular(segment), operation: verb, read: method === 'GET' };
}

function singular(segment: string): string {
  if (segment === 'memory' || segment === 'cache' || segment === 'admin') return segment;
  return segment.endsWith('s') ? segment.slice(0, -1) : segment;
}

/** The record's resource_id from the route's path parameters (null when the route names none). */
export function resourceIdOf(params: Record<string, string> | undefined): string | null {
  if (!params) return null;
  if (params.agent_id !== undefined && params.session_id !== undefined) {
    return `${params.agent_id}/${params.session_id}`;
  }
  return params.session_id ?? params.cache_key ?? params.agent_id ?? params.user_id ?? null;
}
