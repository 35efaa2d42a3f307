import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';

export class ReencryptDto {
  @ApiPropertyOptional({ description: 'next_cursor of the previous step; omit to start.' })
  @IsOptional()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    default: 200,
    description: 'Records per step.',
  })
  @IsOptional()
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
    example: 'eyJwIjoibWVtb3J5IiwicyI6bnVsbCwibSI6IiJ9',
  })
  next_cursor!: string | null;
}
