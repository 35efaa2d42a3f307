/** Field rules shared by the session DTOs (and reused by later modules for actor ids). */
export const STATUS_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const STATUS_RULE = 'must match ^[a-z][a-z0-9_-]{0,31}$';

/** Ids of users, services and agents: plain, bounded, safe in a key once encoded. */
export const ACTOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:+/=-]{0,127}$/;
export const ACTOR_ID_RULE =
  'must be 1-128 characters of A-Z a-z 0-9 . _ @ : + / = - (starting with a letter or digit)';

export const DEFAULT_STATUS = 'created';
export const MIN_SESSION_TTL_SECONDS = 60;
export const MAX_BATCH_SIZE = 100;

export const EXAMPLE_SESSION_ID = '3f1c2a9e-8b7d-4c6e-9f01-23456789abcd';
export const EXAMPLE_CONFIG = { agents: ['planner', 'researcher'], max_turns: 20 };
export const EXAMPLE_METADATA = { project: 'apollo', priority: 'high' };
