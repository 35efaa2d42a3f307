import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ShutdownState } from '../lifecycle/shutdown-state';

/** Terminus indicator for this process: down from the moment shutdown begins. */
@Injectable()
export class LifecycleHealthIndicator {
  constructor(
    private readonly shutdown: ShutdownState,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key = 'api'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    return this.shutdown.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }
}
