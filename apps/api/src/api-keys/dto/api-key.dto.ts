import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, Matches } from 'class-validator';
import { ROLES } from '../../auth/permissions';
import { SUBJECT } from '../../common/swagger/api-fields';
import { Optional } from '../../common/validation/optional';

/** Creation refuses more keys than this per tenant (a 409), so the list never holds more. */
export const MAX_API_KEYS_PER_TENANT = 1000;

const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const TIME = '2026-11-25T10:00:00.000Z';
const EXAMPLE_ID = '3f9a0c1d2e4b5a69';

export class CreateApiKeyDto {
  @ApiProperty({
    example: 'billing-service',
    description: 'What the key is for (1-100 chars).',
    maxLength: 100,
  })
  @Matches(/^[^\p{Cc}]{1,100}$/u, { message: 'name must be 1-100 printable characters' })
  name!: string;

  @ApiPropertyOptional({
    enum: ROLES,
    isArray: true,
    example: ['orchestrator'],
    description: 'Roles the key acts with (config/rbac.yaml). Give roles, scopes or both.',
    maxItems: ROLES.length,
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true, message: `each role must be one of ${ROLES.join(', ')}` })
  roles?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['read', 'write'],
    description:
      "The plan's scopes (read, write, admin; config/rbac.yaml `scopes`). With roles too, a " +
      'request needs both the role and the scope.',
    maxItems: 32,
    pattern: SCOPE_PATTERN.source,
    maxLength: 128,
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(32)
  @Matches(SCOPE_PATTERN, { each: true, message: `each scope must match ${SCOPE_PATTERN.source}` })
  scopes?: string[];

  @ApiPropertyOptional({
    format: 'date-time',
    maxLength: 30,
    example: '2027-01-01T00:00:00Z',
    description: 'When the key stops working; unset = until revoked.',
  })
  @Optional()
  @IsISO8601({ strict: true })
  expires_at?: string;
}

export class ApiKeyDto {
  @ApiProperty({ example: EXAMPLE_ID, pattern: '^[0-9a-f]{16}$', maxLength: 16 })
  id!: string;

  @ApiProperty({ example: 'billing-service', maxLength: 100 })
  name!: string;

  @ApiProperty({
    example: `masa_acme.${EXAMPLE_ID}.…`,
    description: 'The non-secret start of the key, to recognise it.',
    maxLength: 100,
  })
  key_hint!: string;

  @ApiProperty({ type: [String], example: ['orchestrator'], maxItems: ROLES.length, enum: ROLES })
  roles!: string[];

  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['read', 'write'],
    maxItems: 32,
    pattern: SCOPE_PATTERN.source,
    maxLength: 128,
  })
  scopes!: string[] | null;

  @ApiProperty({ example: 'admin-1', ...SUBJECT })
  created_by!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  created_at!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, nullable: true, example: null })
  expires_at!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: `masa_acme.${EXAMPLE_ID}.kq0Vw3Yb8sT2mN5pR7xZ1cD4fG6hJ9kL0qW3eR5tY7u`,
    description:
      'The key. Shown only in this response (only its SHA-256 is stored). Send it as ' +
      '`Authorization: Bearer <api_key>` or `X-API-Key: <api_key>`.',
    pattern: '^masa_[a-z0-9][a-z0-9_-]{0,62}\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}$',
    maxLength: 128,
  })
  api_key!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto], maxItems: MAX_API_KEYS_PER_TENANT })
  api_keys!: ApiKeyDto[];

  @ApiProperty({ example: 1 })
  total_count!: number;
}

export class RevokedApiKeyDto {
  @ApiProperty({ example: true })
  revoked!: boolean;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  revoked_at!: string;
}
