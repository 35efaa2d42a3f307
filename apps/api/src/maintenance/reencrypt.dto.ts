import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { CURSOR, CURSOR_PATTERN } from '../common/swagger/api-fields';
import { Optional } from '../common/validation/optional';

export class ReencryptDto {
  @ApiPropertyOptional({
    description: 'next_cursor of the previous step; omit to start.',
    ...CURSOR,
  })
  @Optional()
  @Matches(CURSOR_PATTERN, { message: 'cursor is not one returned by re-encryption' })
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    default: 200,
    type: 'integer',
    format: 'int32',
    description: 'Records per step.',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ReencryptResultDto {
  @ApiProperty({ description: 'Records looked at in this step.', example: 200 })
  scanned!: number;

  @ApiProperty({ description: 'Stored values rewritten with the current key.', example: 57 })
  reencrypted!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Call again with this cursor; null when the tenant is done.',
    ...CURSOR,
    example: 'eyJwIjoibWVtb3J5IiwicyI6bnVsbCwibSI6IiJ9',
  })
  next_cursor!: string | null;
}
