import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisHealthProbe } from '@app/redis';

/** Terminus indicator for Redis: up with its round-trip time, or down with the reason. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly probe: RedisHealthProbe,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      const latencyMs = await this.probe.ping();
      return indicator.up({ latency_ms: Math.round(latencyMs * 100) / 100 });
    } catch {
      return indicator.down({ message: 'Redis is unreachable' });
    }
  }
}
