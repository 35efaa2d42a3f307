import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  type SchemaObject,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ApiProblem } from '../common/swagger/api-problems.decorator';
import type { FastifyReply } from 'fastify';
import { Public, RequirePermissions } from '../auth/require-permissions.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DetailedHealthDto, HealthDto } from './health.dto';
import { HealthService } from './health.service';
import { LifecycleHealthIndicator } from './lifecycle.health-indicator';
import { RedisHealthIndicator } from './redis.health-indicator';

/** Each indicator's result: `up`/`down` and, when down, why. */
const INDICATORS: SchemaObject = {
  type: 'object',
  maxProperties: 8,
  additionalProperties: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['up', 'down'] },
      latency_ms: { type: 'number', description: 'Redis: the PING round trip.' },
      breaker: {
        type: 'string',
        enum: ['closed', 'open', 'half_open'],
        description:
          'Redis: the circuit breaker (absent when REDIS_BREAKER_FAILURES=0); open means requests are answered 503 at once. Redis Cluster has one per node: the worst of them (open while one master is refused; readiness fails only when all are).',
      },
      message: { type: 'string', maxLength: 1024 },
    },
    required: ['status'],
  },
};

const READINESS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: INDICATORS,
    error: INDICATORS,
    details: INDICATORS,
  },
  required: ['status', 'info', 'error', 'details'],
  example: {
    status: 'ok',
    info: { lifecycle: { status: 'up' }, redis: { status: 'up' } },
    error: {},
    details: { lifecycle: { status: 'up' }, redis: { status: 'up' } },
  },
};

/** Liveness, readiness and status pages for operators and orchestrators' probes. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly lifecycle: LifecycleHealthIndicator,
    private readonly service: HealthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Basic health: healthy when the API can reach Redis',
    description: 'The same JSON body with 200 (healthy) or 503 (unhealthy), for simple monitors.',
  })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async basic(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    const redis = await this.redis.check();
    const healthy = redis.redis.status === 'up';
    void reply.status(healthy ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      timestamp: new Date().toISOString(),
      version: this.config.version,
      uptime_seconds: Math.floor(process.uptime()),
    };
  }

  @Get('live')
  @Public()
  @ApiOperation({
    summary: 'Liveness: the process is serving HTTP (does not touch Redis)',
    description:
      'For liveness probes: never touches Redis, so a Redis outage does not restart pods.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok'] } },
      required: ['status'],
      example: { status: 'ok' },
    },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  // Terminus documents its 503 as a JSON health body; ours leaves through the problem filter.
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary:
      'Readiness: Redis answers PING within 1 s and the API is not shutting down; 503 otherwise',
    description:
      'For load balancers and Kubernetes readiness probes. The 503 is problem+json carrying the ' +
      'same info/error/details members, which name the component that is not up.',
  })
  @ApiOkResponse({ schema: READINESS_SCHEMA })
  @ApiProblem(503, 'Not ready: Redis does not answer PING in time, or the API is shutting down.')
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.lifecycle.check(), () => this.redis.check()]);
  }

  @Get('detailed')
  @RequirePermissions('health:read')
  // The rate limiter counts in Redis: throttling this route would answer a generic 503 exactly
  // when the report matters most (Redis down or slow).
  @SkipThrottle()
  @ApiOperation({
    summary: 'Detailed health: status, components (redis, api, cache) and performance_metrics',
    description:
      'healthy / degraded / unhealthy by the plan: Redis answering PING in < 100 ms is healthy; ' +
      'slower, a missing replica or cluster node, or an evicting Redis is degraded (200); Redis ' +
      'not answering, or the API shutting down, is unhealthy (503).',
  })
  @ApiOkResponse({ type: DetailedHealthDto })
  @ApiServiceUnavailableResponse({ type: DetailedHealthDto })
  async detailed(@Res({ passthrough: true }) reply: FastifyReply): Promise<DetailedHealthDto> {
    const report = await this.service.detailed();
    if (report.status === 'unhealthy') void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
