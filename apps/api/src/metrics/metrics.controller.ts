import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { MetricsQueryDto, UsageQueryDto } from './dto/metrics-query.dto';
import { MetricsReportDto, UsageReportDto } from './dto/metrics-responses.dto';
import { RollupReader } from './rollup-reader.service';

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(private readonly reader: RollupReader) {}

  @Get('metrics')
  @RequirePermissions('metrics:read')
  @ApiOperation({
    summary: 'Latency, throughput and errors of the whole deployment',
    description:
      'Summed over every replica from the rollups each one flushes to Redis every few seconds ' +
      '(METRICS_FLUSH_INTERVAL_MS), so the newest period may lag by that much. 1h: 60 per-minute ' +
      'entries; 24h and 7d: per-hour entries. Percentiles come from a fixed-bucket histogram ' +
      '(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 ms), interpolated inside ' +
      'the bucket. Prometheus scrapes GET /metrics instead.',
  })
  @ApiOkResponse({ type: MetricsReportDto })
  @ApiProblems(400)
  metrics(@Query() query: MetricsQueryDto): Promise<MetricsReportDto> {
    return this.reader.metrics(query.time_range ?? '1h', query.metric_type);
  }

  @Get('analytics/usage')
  @RequirePermissions('analytics:read')
  @ApiOperation({
    summary: "The caller's tenant's API usage by endpoint, user or day",
    description:
      'Counted per UTC day (start_date and end_date select whole days, at most 90). Users are ' +
      'token subjects; unique_users is a HyperLogLog estimate. Summed over every replica.',
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiProblems(400)
  usage(@Tenant() tenant: string, @Query() query: UsageQueryDto): Promise<UsageReportDto> {
    return this.reader.usage(tenant, query.start_date, query.end_date, query.group_by ?? 'day');
  }
}
