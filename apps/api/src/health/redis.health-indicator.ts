import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisHealthProbe } from '@app/redis';

/** Readiness must answer well within the orchestrator's probe timeout (2 s in deployment/). */
export const READINESS_PING_TIMEOUT_MS = 1000;

/** Terminus indicator for Redis: up with its round-trip time, or down with the reason. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly probe: RedisHealthProbe,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    const breaker = this.probe.breakerState;
    // Open (every Cluster node's): requests are being refused anyway, and a PING would be too.
    // One Cluster node's open breaker only shows in `breaker`: the other nodes' slots are served.
    if (this.probe.breakersAllOpen) {
      return indicator.down({
        message:
          'Redis circuit breaker open: requests are answered 503 until Redis answers a probe',
        breaker,
      });
    }
    try {
      const latencyMs = await this.probe.ping(READINESS_PING_TIMEOUT_MS);
      return indicator.up({ latency_ms: Math.round(latencyMs * 100) / 100, breaker });
    } catch (error) {
      const timedOut = error instanceof Error && /longer than/.test(error.message);
      return indicator.down({
        message: timedOut
          ? `Redis did not answer PING within ${READINESS_PING_TIMEOUT_MS} ms`
          : 'Redis is unreachable',
        breaker: this.probe.breakerState,
      });
    }
  }
}
