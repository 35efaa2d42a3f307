import { encodeKeyPart } from './redis-key-builder';

/** Agent ids as the API accepts them (path parameter `agent_id`). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const AGENT_ID_RULE =
  'must be 1-128 characters of A-Z a-z 0-9 . _ : - (starting with a letter or digit)';

/**
 * The plan's memory types. The allowed set is configuration (MEMORY_TYPES); the keys and scripts
 * take any type that matches MEMORY_TYPE_PATTERN (`shared` alone has a meaning: visibility to the
 * session's other agents).
 */
export const DEFAULT_MEMORY_TYPES: readonly string[] = ['working', 'persistent', 'shared'];
/** Safe as a key segment: no `:`, bounded. */
export const MEMORY_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const MEMORY_TYPE_RULE = 'must match ^[a-z][a-z0-9_-]{0,31}$';
export type MemoryType = string;

/**
 * Key names for one tenant's agent memory: one record per (agent, session).
 *
 * ```
 * <t>memory:rec:<agent>:<session>       HASH  memory_id, agent_id, session_id, memory_type, created_by,
 *                                             updated_by, created_at, updated_at, expires_at, ttl_ms,
 *                                             version, data_bytes
 * <t>memory:data:<agent>:<session>      HASH  top-level key of memory_data -> PayloadCodec(value)
 * <t>memory:size:<agent>:<session>      HASH  top-level key -> bytes of its JSON (for the size limit)
 * <t>memory:agent:<agent>               ZSET  session_id -> created_at_ms   (one agent's records)
 * <t>memory:agent:<agent>:type:<type>   ZSET  session_id -> created_at_ms   (agent + memory_type)
 * <t>memory:session:<session>           ZSET  agent -> created_at_ms        (cascade, /memory/sessions)
 * <t>memory:session:<session>:type:<type> ZSET agent -> created_at_ms      (shared records of a session)
 * <t>memory:members                     HASH  "<agent>:<session>" -> memory_type (clean-up reads it)
 * <t>memory:expiry                      ZSET  "<agent>:<session>" -> expires_at_ms
 * ```
 * `<agent>` is always percent-encoded (`:` becomes `%3A`), so the first `:` after it separates the
 * session id, and no agent id can forge another key; index members carry the encoded form too.
 * Each category has its own second segment (rec, data, size, agent, session), so names never
 * collide even when an agent id looks like a session id.
 */
export class MemoryKeyspace {
  readonly recordPrefix: string;
  readonly dataPrefix: string;
  readonly sizePrefix: string;
  readonly agentPrefix: string;
  readonly typeInfix = ':type:';
  readonly sessionPrefix: string;
  readonly members: string;
  readonly expiry: string;

  constructor(readonly tenantPrefix: string) {
    this.recordPrefix = `${tenantPrefix}memory:rec:`;
    this.dataPrefix = `${tenantPrefix}memory:data:`;
    this.sizePrefix = `${tenantPrefix}memory:size:`;
    this.agentPrefix = `${tenantPrefix}memory:agent:`;
    this.sessionPrefix = `${tenantPrefix}memory:session:`;
    this.members = `${tenantPrefix}memory:members`;
    this.expiry = `${tenantPrefix}memory:expiry`;
  }

  /** `<encoded agent>:<session>`: the member naming a record in members and expiry. */
  static member(agentId: string, sessionId: string): string {
    return `${encodeKeyPart(agentId)}:${sessionId}`;
  }

  /** The (agent, session) a member names. */
  static parseMember(member: string): { agentId: string; sessionId: string } {
    const separator = member.indexOf(':');
    return {
      agentId: decodeURIComponent(member.slice(0, separator)),
      sessionId: member.slice(separator + 1),
    };
  }

  record(agentId: string, sessionId: string): string {
    return this.recordPrefix + MemoryKeyspace.member(agentId, sessionId);
  }

  data(agentId: string, sessionId: string): string {
    return this.dataPrefix + MemoryKeyspace.member(agentId, sessionId);
  }

  sizes(agentId: string, sessionId: string): string {
    return this.sizePrefix + MemoryKeyspace.member(agentId, sessionId);
  }

  byAgent(agentId: string, type?: MemoryType): string {
    const key = this.agentPrefix + encodeKeyPart(agentId);
    return type === undefined ? key : key + this.typeInfix + type;
  }

  bySession(sessionId: string, type?: MemoryType): string {
    const key = this.sessionPrefix + sessionId;
    return type === undefined ? key : key + this.typeInfix + type;
  }

  /** Order matters: the Lua prelude reads these positions (see memory.scripts.ts). */
  scriptLayout(): string[] {
    return [
      this.recordPrefix,
      this.dataPrefix,
      this.sizePrefix,
      this.agentPrefix,
      this.typeInfix,
      this.sessionPrefix,
      this.members,
      this.expiry,
    ];
  }
}
