/**
 * OpenAPI schema fragments for the strings this API emits and accepts, spread into @ApiProperty
 * so that the document states the bounds the validators and the stores really hold to.
 */

/** An ISO 8601 instant as the API writes it (`2026-11-25T10:00:00.000Z`). */
export const TIMESTAMP = { format: 'date-time', maxLength: 30 } as const;

/** Session, memory and record ids: UUID v4. */
export const UUID = { format: 'uuid', maxLength: 36 } as const;

/** Paging cursors are opaque base64url; the query DTOs refuse anything longer. */
export const MAX_CURSOR_LENGTH = 512;
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;
export const CURSOR = { pattern: CURSOR_PATTERN.source, maxLength: MAX_CURSOR_LENGTH } as const;

/** Tenant names (the token's tenant claim). */
export const TENANT = { pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', maxLength: 63 } as const;

/** Token subjects and other actor ids the API records (created_by, user_id). */
export const SUBJECT = {
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@:+/=|-]{0,127}$',
  maxLength: 128,
} as const;

/** Free text the API writes itself (reasons, issues, versions); bounded by what writes it. */
export const text = (maxLength: number) => ({ maxLength }) as const;

/**
 * ISO 8601 query bounds (`2026-11-01`, `2026-11-01T00:00:00Z`): IsISO8601 checks the form, and the
 * DTOs cap the length at MAX_ISO_8601_LENGTH.
 */
export const MAX_ISO_8601_LENGTH = 40;
export const ISO_8601 = { pattern: '^[0-9]{4}', maxLength: MAX_ISO_8601_LENGTH } as const;

/** Change-feed event ids (Redis stream ids, `<ms>-<seq>`); also webhook delivery ids. */
export const EVENT_ID = { pattern: '^\\d{1,20}-\\d{1,20}$', maxLength: 41 } as const;
