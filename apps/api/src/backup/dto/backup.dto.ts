import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { CONFLICT_POLICIES, type ConflictPolicy } from '@app/redis';
import { Optional } from '../../common/validation/optional';

export class ExportQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'true: payloads decoded (decrypted, decompressed) as JSON. Default: as stored, so values ' +
      'encrypted at rest stay encrypted. Recorded in the audit trail like every export.',
  })
  @Optional()
  @IsIn(['true', 'false'])
  decrypt?: 'true' | 'false';
}

export class ImportQueryDto {
  @ApiPropertyOptional({
    enum: CONFLICT_POLICIES,
    default: 'fail',
    description:
      'When a record already exists: skip it (counted as skipped), overwrite it, or fail that ' +
      'line (listed in errors). The other lines are imported either way.',
  })
  @Optional()
  @IsIn(CONFLICT_POLICIES)
  conflict?: ConflictPolicy;
}

export class ImportErrorDto {
  @ApiProperty({ description: '1-based line number in the request body.', example: 7 })
  line!: number;

  @ApiProperty({ example: 'session_id must match /^[0-9a-f]{8}-.../i', maxLength: 65536 })
  reason!: string;
}

export class ImportResultDto {
  @ApiProperty({ example: 1250 })
  imported!: number;

  @ApiProperty({
    description: 'Existing records left alone (conflict=skip) and records already expired.',
    example: 3,
  })
  skipped!: number;

  @ApiProperty({ example: 1 })
  failed!: number;

  @ApiProperty({
    type: [ImportErrorDto],
    description: 'One entry per failed line (the first 1000; failed stays exact).',
    maxItems: 1000,
  })
  errors!: ImportErrorDto[];
}
