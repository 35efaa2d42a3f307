import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';

export class FieldProblemDto {
  @ApiProperty({ example: 'limit' })
  field!: string;

  @ApiProperty({ example: 'limit must be an integer between 1 and 100' })
  message!: string;
}

/** RFC 9457 problem details, as every error response of this API is shaped. */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:masa:problem:validation-error' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: 'limit: limit must be an integer between 1 and 100' })
  detail!: string;

  @ApiProperty({ example: '/api/v1/sessions' })
  instance!: string;

  @ApiProperty({ example: '0f8c3d4e-2b1a-4c5d-9e8f-7a6b5c4d3e2f' })
  request_id!: string;

  @ApiPropertyOptional({
    type: [FieldProblemDto],
    description: 'One entry per offending field; a missing one says "<field> is required".',
  })
  errors?: FieldProblemDto[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `errors` names each offending field.',
  404: 'No such resource (in your tenant).',
  409: 'Conflicts with the current state.',
  410: 'The resume position is older than the retention; `oldest_available_id` says where the feed now starts.',
  412: 'If-Match does not match the current version.',
  413: 'Payload larger than the configured limit; the detail names the limit and its setting.',
  415: 'Unsupported Content-Type; the detail names the accepted types.',
  503: 'The data store is unavailable; retry after Retry-After seconds.',
};

/** Documents the problem+json responses a route can give (503 is implied for every data route). */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  const all = [...new Set([...statuses, 503])].sort();
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...all.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } },
        },
      }),
    ),
  );
}
