/** An API key as stored: never the key itself, only its SHA-256. Times are epoch milliseconds. */
export interface StoredApiKey {
  id: string;
  name: string;
  /** Hex SHA-256 of the whole key string. */
  secretHash: string;
  roles: string[];
  /** Absent: the key is governed by its roles alone. */
  scopes?: string[];
  createdBy: string;
  createdAt: number;
  expiresAt?: number;
}

export type NewApiKey = Omit<StoredApiKey, 'createdAt'>;

export type CreateApiKeyOutcome =
  | { kind: 'created'; createdAt: number }
  /** The tenant already holds the maximum number of live keys. */
  | { kind: 'limit_reached'; limit: number };

/**
 * Storage contract for API keys (admin-managed service credentials). Bound to the Redis
 * implementation by RedisModule. Never throws HTTP errors.
 */
export abstract class ApiKeyRepository {
  abstract create(tenant: string, key: NewApiKey, maxKeys: number): Promise<CreateApiKeyOutcome>;
  /** A live key (null when unknown, revoked or expired). */
  abstract get(tenant: string, id: string): Promise<StoredApiKey | null>;
  /** The tenant's live keys, oldest first (at most the per-tenant maximum). */
  abstract list(tenant: string): Promise<StoredApiKey[]>;
  /** True when a live key was revoked (deleted). */
  abstract revoke(tenant: string, id: string): Promise<boolean>;
}
