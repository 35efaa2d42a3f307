/** Statuses the sessions_by_status gauge reports (status is free-form; labels stay bounded). */
export const REPORTED_STATUSES = [
  'created',
  'active',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;

/**
 * A session in one of these has ended: it is not counted in sessions_active, and entering one
 * observes session_duration_seconds.
 */
export const ENDED_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);
