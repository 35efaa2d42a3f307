import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PageQueryDto } from '../pagination/page-query.dto';
import { CreateSessionDto } from '../../sessions/dto/create-session.dto';
import { CreateMemoryDto } from '../../memory/dto/create-memory.dto';
import { RequestValidationError } from './request-validation.error';

function problemsOf<T extends object>(type: new () => T, plain: Record<string, unknown>) {
  const errors = validateSync(plainToInstance(type, plain), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  return RequestValidationError.fromClassValidator(errors).problems;
}

describe('RequestValidationError', () => {
  it('gives one message per field: limit=abc says what limit must be, once', () => {
    expect(problemsOf(PageQueryDto, { limit: 'abc' })).toEqual([
      { field: 'limit', message: 'limit must be an integer between 1 and 100' },
    ]);
    expect(problemsOf(PageQueryDto, { limit: '101', offset: '-1' })).toEqual([
      { field: 'limit', message: 'limit must be an integer between 1 and 100' },
      { field: 'offset', message: 'offset must be an integer between 0 and 1000000000' },
    ]);
  });

  it('says "is required" for a missing field, and the format rule for a wrong one', () => {
    expect(problemsOf(CreateMemoryDto, {})).toEqual([
      { field: 'session_id', message: 'session_id is required' },
      { field: 'memory_data', message: 'memory_data is required' },
      { field: 'memory_type', message: 'memory_type is required' },
    ]);
    expect(problemsOf(CreateSessionDto, {})).toEqual([
      { field: 'session_config', message: 'session_config is required' },
    ]);
    expect(problemsOf(CreateSessionDto, { session_config: {}, created_by: '-x' })).toEqual([
      {
        field: 'created_by',
        message: expect.stringMatching(/^created_by must be 1-128 characters/),
      },
    ]);
  });

  it('names a property that is not allowed', () => {
    expect(problemsOf(PageQueryDto, { colour: 'red' })).toEqual([
      { field: 'colour', message: 'property colour should not exist' },
    ]);
  });

  it('lists at most 20 problems, then one line counting the rest (a bad list is not 1,000 lessons)', () => {
    const errors = Array.from({ length: 1000 }, (_, i) => ({
      property: String(i),
      value: i,
      constraints: { isUuid: `each value must be a UUID (${i})` },
      children: [],
    }));
    const { problems } = RequestValidationError.fromClassValidator([
      { property: 'session_ids', children: errors },
    ]);
    expect(problems).toHaveLength(21);
    expect(problems[19]).toEqual({
      field: 'session_ids.19',
      message: 'each value must be a UUID (19)',
    });
    expect(problems[20]).toEqual({
      field: 'body',
      message: 'has 980 more problems like these (not listed)',
    });
  });

  it('names the broken rule of a list with bad items, not "is required" (its value was stripped)', () => {
    const [problem] = RequestValidationError.fromClassValidator([
      {
        property: 'sessions',
        constraints: { arrayMaxSize: 'sessions must contain no more than 100 elements' },
        children: [{ property: '0', constraints: { isObject: 'not an object' }, children: [] }],
      },
    ]).problems;
    expect(problem).toEqual({
      field: 'sessions',
      message: 'sessions must contain no more than 100 elements',
    });
  });
});
