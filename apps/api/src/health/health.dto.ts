import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export class HealthDto {
  @ApiProperty({ enum: ['healthy', 'unhealthy'], example: 'healthy' })
  status!: 'healthy' | 'unhealthy';

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  timestamp!: string;

  @ApiProperty({ example: '0.1.0', maxLength: 64 })
  version!: string;

  @ApiProperty({ example: 3600 })
  uptime_seconds!: number;
}

export class RedisTopologyDto {
  @ApiProperty({ enum: ['standalone', 'sentinel', 'cluster'] })
  mode!: string;

  @ApiProperty({ description: 'Replicas online behind the primary (all masters for Cluster).' })
  connected_replicas!: number;

  @ApiPropertyOptional({ description: 'Sentinel: the monitored master name.', maxLength: 256 })
  master_name?: string;

  @ApiPropertyOptional({
    description: 'Cluster: CLUSTER INFO cluster_state.',
    example: 'ok',
    maxLength: 16,
  })
  cluster_state?: string;

  @ApiPropertyOptional({ description: 'Cluster: master nodes.' })
  masters?: number;

  @ApiPropertyOptional({ description: 'Cluster: replica nodes.' })
  replicas?: number;

  @ApiPropertyOptional({ description: 'Cluster: nodes flagged fail or pfail.' })
  failing_nodes?: number;
}

export class RedisComponentDto {
  @ApiProperty({ enum: HEALTH_STATUSES })
  status!: HealthStatus;

  @ApiPropertyOptional({ description: 'PING round trip; < 100 ms is healthy.', example: 0.4 })
  response_time_ms?: number;

  @ApiPropertyOptional({ example: 1048576 })
  used_memory_bytes?: number;

  @ApiPropertyOptional({ description: 'maxmemory; 0 = no limit.', example: 0 })
  max_memory_bytes?: number;

  @ApiPropertyOptional({ example: 4 })
  connected_clients?: number;

  @ApiPropertyOptional({ example: '7.0.15', maxLength: 32 })
  version?: string;

  @ApiPropertyOptional({
    description: 'Role of the node the API writes to.',
    example: 'master',
    maxLength: 16,
  })
  role?: string;

  @ApiPropertyOptional({ type: RedisTopologyDto })
  topology?: RedisTopologyDto;

  @ApiProperty({
    type: [String],
    description: 'Why the status is not healthy.',
    maxItems: 32,
    maxLength: 512,
  })
  issues!: string[];
}

export class ApiComponentDto {
  @ApiProperty({ enum: HEALTH_STATUSES })
  status!: HealthStatus;

  @ApiProperty()
  shutting_down!: boolean;

  @ApiProperty({ example: 3600 })
  uptime_seconds!: number;

  @ApiProperty({ description: 'Requests being served by this replica.' })
  in_flight_requests!: number;

  @ApiProperty({ description: 'Event loop delay, p99 since the previous call.', example: 12.3 })
  event_loop_delay_p99_ms!: number;

  @ApiProperty({ example: 104857600 })
  rss_bytes!: number;

  @ApiProperty({ type: [String], maxItems: 32, maxLength: 512 })
  issues!: string[];
}

export class CacheComponentDto {
  @ApiProperty({ enum: HEALTH_STATUSES })
  status!: HealthStatus;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Cache hits / (hits + misses) on this replica since it started; null before any lookup.',
    example: 0.93,
  })
  hit_ratio!: number | null;

  @ApiPropertyOptional({
    description: 'Redis maxmemory-policy; noeviction is required.',
    maxLength: 32,
  })
  eviction_policy?: string;

  @ApiPropertyOptional({ description: 'Keys Redis evicted since it started (should stay 0).' })
  evicted_keys?: number;

  @ApiProperty({ type: [String], maxItems: 32, maxLength: 512 })
  issues!: string[];
}

export class ComponentsDto {
  @ApiProperty({ type: RedisComponentDto })
  redis!: RedisComponentDto;

  @ApiProperty({ type: ApiComponentDto })
  api!: ApiComponentDto;

  @ApiProperty({ type: CacheComponentDto })
  cache!: CacheComponentDto;
}

export class PerformanceMetricsDto {
  @ApiProperty({ example: 300 })
  window_seconds!: number;

  @ApiProperty({ description: 'All replicas together.', example: 42.5 })
  requests_per_second!: number;

  @ApiProperty({ example: 3.2 })
  avg_response_time_ms!: number;

  @ApiProperty({ example: 11.8 })
  p95_response_time_ms!: number;

  @ApiProperty({ description: 'Share of 5xx responses, 0..1.', example: 0.001 })
  error_rate!: number;
}

export class DetailedHealthDto {
  @ApiProperty({
    enum: HEALTH_STATUSES,
    description:
      'unhealthy when Redis does not answer (or the API is shutting down): 503; degraded when ' +
      'Redis is slow (>= 100 ms), a replica or cluster node is missing, or data may be evicted: 200.',
  })
  status!: HealthStatus;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  timestamp!: string;

  @ApiProperty({ example: '0.1.0', maxLength: 64 })
  version!: string;

  @ApiProperty({ example: 3600 })
  uptime_seconds!: number;

  @ApiProperty({ type: ComponentsDto })
  components!: ComponentsDto;

  @ApiProperty({
    type: PerformanceMetricsDto,
    nullable: true,
    description:
      'Across all replicas over the last window_seconds; null when the figures cannot be read ' +
      '(see performance_metrics_reason).',
  })
  performance_metrics!: PerformanceMetricsDto | null;

  @ApiPropertyOptional({ description: 'Why performance_metrics is null.', maxLength: 512 })
  performance_metrics_reason?: string;
}
