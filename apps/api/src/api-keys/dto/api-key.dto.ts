import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  Matches,
} from 'class-validator';
import { ROLES } from '../../auth/permissions';

const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const TIME = '2026-11-25T10:00:00.000Z';
const EXAMPLE_ID = '3f9a0c1d2e4b5a69';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'billing-service', description: 'What the key is for (1-100 chars).' })
  @Matches(/^[^\p{Cc}]{1,100}$/u, { message: 'name must be 1-100 printable characters' })
  name!: string;

  @ApiPropertyOptional({
    enum: ROLES,
    isArray: true,
    example: ['orchestrator'],
    description: 'Roles the key acts with (config/rbac.yaml). Give roles, scopes or both.',
  })
  @IsOptional()
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
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(32)
  @Matches(SCOPE_PATTERN, { each: true, message: `each scope must match ${SCOPE_PATTERN.source}` })
  scopes?: string[];

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2027-01-01T00:00:00Z',
    description: 'When the key stops working; unset = until revoked.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;
}

export class ApiKeyDto {
  @ApiProperty({ example: EXAMPLE_ID })
  id!: string;

  @ApiProperty({ example: 'billing-service' })
  name!: string;

  @ApiProperty({
    example: `masa_acme.${EXAMPLE_ID}.…`,
    description: 'The non-secret start of the key, to recognise it.',
  })
  key_hint!: string;

  @ApiProperty({ type: [String], example: ['orchestrator'] })
  roles!: string[];

  @ApiProperty({ type: [String], nullable: true, example: ['read', 'write'] })
  scopes!: string[] | null;

  @ApiProperty({ example: 'admin-1' })
  created_by!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  created_at!: string;

  @ApiProperty({ format: 'date-time', nullable: true, example: null })
  expires_at!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: `masa_acme.${EXAMPLE_ID}.kq0Vw3…`,
    description:
      'The key. Shown only in this response (only its SHA-256 is stored). Send it as ' +
      '`Authorization: Bearer <api_key>` or `X-API-Key: <api_key>`.',
  })
  api_key!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] })
  api_keys!: ApiKeyDto[];

  @ApiProperty({ example: 1 })
  total_count!: number;
}

export class RevokedApiKeyDto {
  @ApiProperty({ example: true })
  revoked!: boolean;

  @ApiProperty({ format: 'date-time', example: TIME })
  revoked_at!: string;
}
