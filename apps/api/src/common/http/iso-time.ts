/** Epoch milliseconds (as stored, from Redis' clock) to the ISO 8601 form every response uses. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();
