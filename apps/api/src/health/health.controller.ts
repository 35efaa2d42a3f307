import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { RedisHealthProbe } from '@app/redis';
import { Public } from '../auth/require-permissions.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RedisHealthIndicator } from './redis.health-indicator';

class HealthDto {
  @ApiProperty({ enum: ['healthy', 'unhealthy'], example: 'healthy' })
  status!: 'healthy' | 'unhealthy';

  @ApiProperty({ format: 'date-time' })
  timestamp!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ example: 3600 })
  uptime_seconds!: number;
}

class ComponentsDto {
  @ApiProperty({ enum: ['healthy', 'unhealthy'] })
  redis!: string;
}

class DetailedHealthDto extends HealthDto {
  @ApiProperty({ type: ComponentsDto })
  components!: ComponentsDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { latency_ms: 0.4, version: '7.0.15' },
  })
  redis!: Record<string, unknown>;
}

/** Liveness, readiness and status pages for operators and orchestrators' probes. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly probe: RedisHealthProbe,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Basic health: healthy when the API can reach Redis' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async basic(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    const redis = await this.redis.check();
    const healthy = redis.redis.status === 'up';
    void reply.status(healthy ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return this.summary(healthy);
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is serving HTTP (does not touch Redis)' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: Redis answers; 503 otherwise' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.redis.check()]);
  }

  @Get('detailed')
  @ApiOperation({ summary: 'Detailed health with Redis latency, memory and version' })
  @ApiOkResponse({ type: DetailedHealthDto })
  @ApiServiceUnavailableResponse({ type: DetailedHealthDto })
  async detailed(@Res({ passthrough: true }) reply: FastifyReply): Promise<DetailedHealthDto> {
    try {
      const report = await this.probe.report();
      return {
        ...this.summary(true),
        components: { redis: 'healthy' },
        redis: {
          connection: report.connection,
          latency_ms: Math.round(report.latencyMs * 100) / 100,
          used_memory_bytes: report.usedMemoryBytes,
          version: report.version,
        },
      };
    } catch {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { ...this.summary(false), components: { redis: 'unhealthy' }, redis: {} };
    }
  }

  private summary(healthy: boolean): HealthDto {
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      timestamp: new Date().toISOString(),
      version: this.config.version,
      uptime_seconds: Math.floor(process.uptime()),
    };
  }
}
