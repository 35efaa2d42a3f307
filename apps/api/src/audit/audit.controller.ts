import { Readable } from 'node:stream';
import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { AuditService } from './audit.service';
import {
  AuditListQueryDto,
  AuditRangeQueryDto,
  AuditVerifyQueryDto,
} from './dto/audit-queries.dto';
import { AuditPageDto, AuditVerificationDto } from './dto/audit-responses.dto';

/** The audit trail of the caller's tenant: read, export, verify. Nothing here changes it. */
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermissions('audit:read')
  @ApiOperation({
    summary: 'Search the audit trail (newest first)',
    description:
      'Filters combine (AND). from/to bound the commit time; the other filters are applied while ' +
      'walking the trail, at most 2000 entries per page, so a narrow filter over a long range may ' +
      'return a short (even empty) page with a next_cursor: keep following it.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400)
  list(@Tenant() tenant: string, @Query() query: AuditListQueryDto): Promise<AuditPageDto> {
    return this.audit.list(tenant, query);
  }

  @Get('export')
  @RequirePermissions('audit:read')
  @RateLimitClass('audit_export')
  @ApiOperation({
    summary: 'Export the audit trail as NDJSON (oldest first)',
    description:
      'One record per line, streamed in bounded batches; the range is not held in memory.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'One JSON audit record per line (AuditRecordDto).',
    schema: { type: 'string' },
  })
  @ApiProblems(400)
  export(@Tenant() tenant: string, @Query() query: AuditRangeQueryDto): StreamableFile {
    const records = this.audit.export(tenant, query);
    const lines = Readable.from(
      (async function* () {
        for await (const record of records) yield `${JSON.stringify(record)}\n`;
      })(),
    );
    return new StreamableFile(lines, { type: 'application/x-ndjson' });
  }

  @Get('verify')
  @RequirePermissions('audit:verify')
  @RateLimitClass('bulk')
  @ApiOperation({
    summary: 'Verify the hash chain over a range',
    description:
      "Recomputes every record's hash and checks its link to the previous record, the sequence, " +
      'the chain head (when the walk reaches the newest record) and, with AUDIT_SEAL_KEY, the keyed ' +
      'checkpoints. first_break names the first record that fails.',
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  @ApiProblems(400)
  verify(
    @Tenant() tenant: string,
    @Query() query: AuditVerifyQueryDto,
  ): Promise<AuditVerificationDto> {
    return this.audit.verify(tenant, query);
  }
}
