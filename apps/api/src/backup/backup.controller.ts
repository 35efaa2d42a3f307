import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Post,
  Query,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { BackupService } from './backup.service';
import { ExportQueryDto, ImportQueryDto, ImportResultDto } from './dto/backup.dto';
import { NDJSON_CONTENT_TYPE, NdjsonBody } from './ndjson';

/** Backup and restore of the caller's tenant (sessions, agent memory, cache) as NDJSON. */
@ApiTags('admin')
@Controller('admin')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Get('export')
  @RequirePermissions('admin:export')
  @RateLimitClass('bulk')
  @ApiOperation({
    summary: "Export the tenant's sessions, memory and cache as NDJSON",
    description:
      'One record per line (sessions, then memory records, then cache entries) with versions, ' +
      'timestamps and remaining TTLs, streamed in bounded batches. Payloads are exported as ' +
      'stored (encrypted at rest stays encrypted) unless decrypt=true (admin role only).',
  })
  @ApiProduces(NDJSON_CONTENT_TYPE)
  @ApiOkResponse({ description: 'One JSON record per line.', schema: { type: 'string' } })
  @ApiProblems(400, 403)
  export(
    @Tenant() tenant: string,
    @CurrentPrincipal() principal: Principal | undefined,
    @Query() query: ExportQueryDto,
  ): StreamableFile {
    const decrypt = query.decrypt === 'true';
    if (decrypt && !principal?.roles.includes('admin')) {
      throw new ForbiddenException('decrypt=true requires the admin role.');
    }
    return new StreamableFile(Readable.from(this.backups.exportLines(tenant, decrypt)), {
      type: NDJSON_CONTENT_TYPE,
    });
  }

  @Post('import')
  @HttpCode(200)
  @RequirePermissions('admin:import')
  @RateLimitClass('bulk')
  @ApiOperation({
    summary: 'Import an NDJSON export into the tenant',
    description:
      'Streamed line by line. Every record is written with all of its indexes in one step (never ' +
      'half). Versions, created_at/updated_at and expires_at are kept as exported; records already ' +
      'expired are skipped. A bad line is listed in errors with its number; the others import.',
  })
  @ApiConsumes(NDJSON_CONTENT_TYPE)
  @ApiBody({ schema: { type: 'string', description: 'Lines of GET /admin/export.' } })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiProblems(400, 403, 415)
  import(
    @Tenant() tenant: string,
    @Query() query: ImportQueryDto,
    @Body() body: unknown,
  ): Promise<ImportResultDto> {
    if (!(body instanceof NdjsonBody)) {
      throw InvalidRequestError.field(
        'body',
        `must be sent as ${NDJSON_CONTENT_TYPE} (header Content-Type: ${NDJSON_CONTENT_TYPE}), one exported record per line`,
      );
    }
    return this.backups.import(tenant, body.stream, query.conflict ?? 'fail');
  }
}
