import { Readable } from 'node:stream';
import { Controller, Delete, Get, HttpCode, Param, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { NDJSON_CONTENT_TYPE } from '../backup/ndjson';
import { ACTOR_ID_RULE } from '../sessions/dto/session-fields';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { ErasureReceiptDto } from './dto/erasure-receipt.dto';
import { SubjectIdPipe } from './subject-id.pipe';
import { SubjectsService } from './subjects.service';

const ApiUserIdParam = () =>
  ApiParam({
    name: 'user_id',
    example: 'user-42',
    description: `The subject: sessions whose created_by is this id, cache entries tagged user:{user_id}. It ${ACTOR_ID_RULE}.`,
  });

/** Data-subject requests (erasure, access) over the caller's tenant. */
@ApiTags('subjects')
@Controller('subjects')
export class SubjectsController {
  constructor(private readonly subjects: SubjectsService) {}

  @Delete(':user_id')
  @HttpCode(200)
  @RequirePermissions('subjects:erase')
  @RateLimitClass('bulk')
  @ApiOperation({
    summary: 'Erase everything held about a user',
    description:
      'Deletes every session created by the user (with its agent memory) and every cache entry ' +
      'tagged user:{user_id}, in bounded steps, each record with all of its indexes at once. ' +
      'Repeatable: an erasure that was interrupted is finished by the next call, whose receipt ' +
      'counts what both deleted. The receipt is also written to the audit trail.',
  })
  @ApiUserIdParam()
  @ApiOkResponse({ type: ErasureReceiptDto })
  @ApiProblems(400, 403)
  erase(
    @Tenant() tenant: string,
    @Param('user_id', SubjectIdPipe) userId: string,
  ): Promise<ErasureReceiptDto> {
    return this.subjects.erase(tenant, userId);
  }

  @Get(':user_id/export')
  @RequirePermissions('subjects:export')
  @RateLimitClass('bulk')
  @ApiOperation({
    summary: 'Export everything held about a user as NDJSON',
    description:
      'One record per line, payloads decoded: the sessions the user created, each followed by its ' +
      'agent memory, then the cache entries tagged user:{user_id}. Same record shapes as ' +
      'GET /admin/export, streamed in bounded batches. Recorded in the audit trail.',
  })
  @ApiUserIdParam()
  @ApiProduces(NDJSON_CONTENT_TYPE)
  @ApiOkResponse({ description: 'One JSON record per line.' })
  @ApiProblems(400, 403)
  export(
    @Tenant() tenant: string,
    @Param('user_id', SubjectIdPipe) userId: string,
  ): StreamableFile {
    return new StreamableFile(Readable.from(this.subjects.exportLines(tenant, userId)), {
      type: NDJSON_CONTENT_TYPE,
    });
  }
}
