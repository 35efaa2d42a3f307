/** Field rules and Swagger examples shared by the memory DTOs. */
export {
  AGENT_ID_PATTERN,
  AGENT_ID_RULE,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from '@app/redis';

/** How the OpenAPI document describes memory_type (the allowed set is configuration). */
export const MEMORY_TYPE_DOC =
  'One of the configured MEMORY_TYPES (default working, persistent, shared); `shared` records ' +
  'are visible to the other agents of the session.';

export const EXAMPLE_AGENT_ID = 'researcher-1';
export const EXAMPLE_MEMORY_ID = '9b2e4c1a-7d3f-4e5a-8b6c-0d1e2f3a4b5c';
export { EXAMPLE_SESSION_ID } from '../../sessions/dto/session-fields';
export const EXAMPLE_MEMORY_DATA = {
  findings: ['Redis 7.0 has no HEXPIRE'],
  plan: { step: 3, next: 'summarize' },
};
export const EXAMPLE_TIME = '2026-11-25T10:00:00.000Z';
/** Upper bound of ids in one cross-agent query (agent_ids, session_ids). */
export const MAX_QUERY_IDS = 100;
export const MAX_MEMORY_PAGE = 100;
/** Deepest offset + limit of the cross-agent lists (each page merges the top of several indexes). */
export const MAX_QUERY_OFFSET = 10_000;
