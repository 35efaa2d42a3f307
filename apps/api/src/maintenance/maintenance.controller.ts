import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvalidReencryptionCursorError, PayloadReencryptor } from '@app/redis';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { ReencryptDto, ReencryptResultDto } from './reencrypt.dto';

@ApiTags('admin')
@Controller('admin')
export class MaintenanceController {
  constructor(private readonly reencryptor: PayloadReencryptor) {}

  @Post('reencrypt')
  @HttpCode(200)
  @RequirePermissions('admin:maintenance')
  @ApiOperation({
    summary: "Re-encrypt the tenant's stored payloads with the current key, one bounded step",
    description:
      'Key rotation: put the new key first in ENCRYPTION_KEYS (keep the old one), call this until ' +
      'next_cursor is null, then drop the old key.',
  })
  @ApiOkResponse({ type: ReencryptResultDto })
  @ApiProblems(400)
  async reencrypt(
    @Tenant() tenant: string,
    @Body() body: ReencryptDto,
  ): Promise<ReencryptResultDto> {
    try {
      const step = await this.reencryptor.step(tenant, body.cursor, body.limit ?? 200);
      return { scanned: step.scanned, reencrypted: step.reencrypted, next_cursor: step.nextCursor };
    } catch (error) {
      if (error instanceof InvalidReencryptionCursorError) {
        throw InvalidRequestError.field('cursor', error.message);
      }
      throw error;
    }
  }
}
