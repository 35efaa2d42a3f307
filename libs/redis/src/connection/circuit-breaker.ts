/** `closed`: commands flow; `open`: they fail at once; `half_open`: one trial command decides. */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerPolicy {
  /** Consecutive timeouts or connection failures that open the breaker; 0 = never opens. */
  failureThreshold: number;
  /** Those failures must fall within this many ms of the first one, or the count starts again. */
  windowMs: number;
}

/** What the gate does with one command (or one pipeline, which is decided whole). */
export type Admission = 'pass' | 'trial' | 'reject';

export type BreakerListener = (from: BreakerState, to: BreakerState, reason: string) => void;

/**
 * The breaker's state machine, without timers or I/O (the gate in breaker-gate.ts sends the
 * commands and the probe; this decides). Only outcomes that say "Redis did not answer" count:
 * an error reply (BUSY, OOM, a wrong type) is Redis answering, and a slow reply within the
 * command timeout is a success, so a healthy but busy Redis never opens it.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private streak = 0;
  private streakStartedAt = 0;
  private trialInFlight = false;
  private readonly listeners: BreakerListener[] = [];

  constructor(
    readonly policy: BreakerPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Whether admit() would refuse now: open, or half-open with its trial already out. */
  get refusing(): boolean {
    return this.current === 'open' || (this.current === 'half_open' && this.trialInFlight);
  }

  onTransition(listener: BreakerListener): void {
    this.listeners.push(listener);
  }

  admit(): Admission {
    switch (this.current) {
      case 'closed':
        return 'pass';
      case 'open':
        return 'reject';
      case 'half_open':
        if (this.trialInFlight) return 'reject';
        this.trialInFlight = true;
        return 'trial';
    }
  }

  /** Redis answered a command (any reply, error replies included). */
  succeeded(admission: Admission): void {
    if (admission === 'trial') {
      this.trialInFlight = false;
      if (this.current === 'half_open') this.moveTo('closed', 'the trial command was answered');
      return;
    }
    // Replies to commands sent before the breaker opened say nothing about Redis now.
    if (this.current === 'closed') this.streak = 0;
  }

  /** A command timed out or could not reach Redis. */
  failed(admission: Admission): void {
    if (admission === 'trial') {
      this.trialInFlight = false;
      if (this.current === 'half_open') this.moveTo('open', 'the trial command was not answered');
      return;
    }
    if (this.current !== 'closed' || this.policy.failureThreshold === 0) return;
    const now = this.now();
    if (this.streak === 0 || now - this.streakStartedAt > this.policy.windowMs) {
      this.streak = 0;
      this.streakStartedAt = now;
    }
    this.streak++;
    if (this.streak >= this.policy.failureThreshold) {
      this.moveTo(
        'open',
        `${this.streak} consecutive timeouts or connection failures within ${this.policy.windowMs} ms`,
      );
    }
  }

  /** The background probe got an answer: let one command through to confirm. */
  probeAnswered(): void {
    if (this.current === 'open') this.moveTo('half_open', 'a probe PING was answered');
  }

  private moveTo(to: BreakerState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.streak = 0;
    if (to !== 'half_open') this.trialInFlight = false;
    for (const listener of this.listeners) listener(from, to, reason);
  }
}
