/**
 * Credentials never reach a log line, not even in a URL: a caller who puts a token in the query
 * string (`?access_token=…`) is refused, and its log line must not hand the token to whoever reads
 * the logs. Used by every serializer that writes a URL or a query object.
 */
export const REDACTED = '[redacted]';

/**
 * Query parameter names that carry credentials: exact names, plus any name containing one of the
 * words (`x_api_key`, `refresh_token`, `client_secret`, `db_password`…). Case-insensitive.
 */
const SENSITIVE_NAME =
  /token|secret|passw|api[-_]?key|apikey|credential|session[-_]?key|^key$|^auth(orization)?$|^sig(nature)?$|^code$/i;

export function isSensitiveParameter(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** `scheme://user:password@host` → `scheme://user:[redacted]@host` (a lone user is redacted too). */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i;

/**
 * The URL with the values of credential parameters and any userinfo password replaced by
 * `[redacted]`; everything else (path, other parameters, their order) stays as sent.
 */
export function redactUrl(url: string): string {
  let out = url.replace(USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1
      ? `${scheme}${REDACTED}@`
      : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  });
  const queryAt = out.indexOf('?');
  if (queryAt === -1) return out;
  const hashAt = out.indexOf('#', queryAt);
  const end = hashAt === -1 ? out.length : hashAt;
  const query = out
    .slice(queryAt + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return equals !== -1 && isSensitiveParameter(decodedName(name))
        ? `${name}=${REDACTED}`
        : pair;
    })
    .join('&');
  out = `${out.slice(0, queryAt + 1)}${query}${out.slice(end)}`;
  return out;
}

/** A parsed query object with the values of credential parameters replaced. */
export function redactQuery(query: unknown): unknown {
  if (query === null || typeof query !== 'object') return query;
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    copy[name] = isSensitiveParameter(name) ? REDACTED : value;
  }
  return copy;
}

/** pino serializer for a request record (`req`): its `url` and `query` lose their credentials. */
export function redactRequestRecord<T extends { url?: unknown; query?: unknown }>(record: T): T {
  if (typeof record.url === 'string') record.url = redactUrl(record.url);
  if (record.query !== undefined) record.query = redactQuery(record.query);
  return record;
}
