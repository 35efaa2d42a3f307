import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  Post,
  type ArgumentMetadata,
  type PipeTransform,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { ApiKeysService } from './api-keys.service';
import {
  ApiKeyListDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  RevokedApiKeyDto,
} from './dto/api-key.dto';

class KeyIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!/^[0-9a-f]{16}$/.test(value)) {
      throw InvalidRequestError.field(metadata.data ?? 'key_id', 'must be 16 hex digits');
    }
    return value;
  }
}

@ApiTags('admin')
@Controller('admin/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @RequirePermissions('admin:api-keys')
  @ApiOperation({
    summary: 'Issue an API key for a service of your tenant',
    description:
      'The key (`masa_…`) is in this response only; the API stores its SHA-256. Services send it ' +
      'as `Authorization: Bearer <api_key>` or `X-API-Key: <api_key>`. A key never grants more ' +
      'than its creator holds.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiProblems(400, 409)
  create(
    @Tenant() tenant: string,
    @Body() body: CreateApiKeyDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(tenant, body, caller);
  }

  @Get()
  @RequirePermissions('admin:api-keys')
  @ApiOperation({
    summary: "List your tenant's API keys (never the keys themselves)",
    description:
      "Every live key of the caller's tenant with its hint, roles, scopes and expiry; the secret is never stored.",
  })
  @ApiOkResponse({ type: ApiKeyListDto })
  @ApiProblems()
  list(@Tenant() tenant: string): Promise<ApiKeyListDto> {
    return this.apiKeys.list(tenant);
  }

  @Delete(':key_id')
  @RequirePermissions('admin:api-keys')
  @ApiParam({
    name: 'key_id',
    example: '3f9a0c1d2e4b5a69',
    schema: { type: 'string', pattern: '^[0-9a-f]{16}$', maxLength: 16 },
  })
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Refused by this replica at once and by every other replica within a second.',
  })
  @ApiOkResponse({ type: RevokedApiKeyDto })
  @ApiProblems(400, 404)
  revoke(
    @Tenant() tenant: string,
    @Param('key_id', KeyIdPipe) keyId: string,
  ): Promise<RevokedApiKeyDto> {
    return this.apiKeys.revoke(tenant, keyId);
  }
}
