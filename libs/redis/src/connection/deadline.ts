/** What `beforeDeadline` resolves to when the deadline came first. */
export const LATE = Symbol('deadline passed');

/**
 * `reply`, or LATE once `ms` have passed without it; a rejection before the deadline passes
 * through. A reply that comes (or fails) after the deadline is dropped, never left unhandled, and
 * the timer never outlives the race.
 */
export async function beforeDeadline<T>(reply: Promise<T>, ms: number): Promise<T | typeof LATE> {
  reply.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  try {
    return await Promise.race([reply, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
