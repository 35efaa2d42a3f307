import { Global, Module } from '@nestjs/common';
import { PerformanceSnapshotSource } from '../common/observability/performance-snapshot';
import { MetricsController } from './metrics.controller';
import { RequestRollups } from './request-rollups';
import { RollupReader } from './rollup-reader.service';
import { StoreGauges } from './store-gauges';

/**
 * Prometheus metrics (GET /metrics, installed as Fastify hooks by createApp), the deployment-wide
 * JSON metrics and usage analytics, and the performance snapshot the health module reads.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    RequestRollups,
    RollupReader,
    StoreGauges,
    { provide: PerformanceSnapshotSource, useExisting: RollupReader },
  ],
  exports: [PerformanceSnapshotSource, RequestRollups, StoreGauges],
})
export class MetricsModule {}
