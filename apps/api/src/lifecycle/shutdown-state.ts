import { Injectable } from '@nestjs/common';

/**
 * Whether this process has begun to shut down, and how many requests it is serving. Readiness reads
 * it (503 from the first moment) and the HTTP layer asks keep-alive clients to reconnect elsewhere.
 */
@Injectable()
export class ShutdownState {
  private startedAt?: number;
  private active = 0;

  /** Requests this process is serving now (counted by hooks in app.factory.ts). */
  get inFlight(): number {
    return this.active;
  }

  requestStarted(): void {
    this.active++;
  }

  requestFinished(): void {
    this.active--;
  }

  get draining(): boolean {
    return this.startedAt !== undefined;
  }

  /** Milliseconds since shutdown began, or undefined while serving normally. */
  get elapsedMs(): number | undefined {
    return this.startedAt === undefined ? undefined : Date.now() - this.startedAt;
  }

  begin(): void {
    this.startedAt ??= Date.now();
  }
}
