import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import type { FieldProblem } from '../errors/domain-errors';

/** At most this many field problems in one answer (then one line counting the rest). */
export const MAX_PROBLEMS = 20;

/** Thrown by the global ValidationPipe; carries one entry per offending field (dotted path). */
export class RequestValidationError extends BadRequestException {
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }

  static fromClassValidator(errors: ValidationError[]): RequestValidationError {
    const problems = flatten(errors, '');
    if (problems.length <= MAX_PROBLEMS) return new RequestValidationError(problems);
    // A list of 1,000 bad items is not 1,000 lessons: the first ones show the pattern, and the
    // answer stays small whatever the request held.
    return new RequestValidationError([
      ...problems.slice(0, MAX_PROBLEMS),
      {
        field: 'body',
        message: `has ${problems.length - MAX_PROBLEMS} more problems like these (not listed)`,
      },
    ]);
  }
}

/**
 * When one value breaks several rules (`?limit=abc` is not an integer, not >= 1, not <= 100), the
 * caller gets the rule that says what the value must be; range and format rules come after it.
 */
const RULE_PRIORITY = [
  'whitelistValidation',
  'isDefined',
  'notNull',
  'isInt',
  'isNumber',
  'isString',
  'isBoolean',
  'isArray',
  'isJsonObject',
  'isJsonValue',
  'isUuid',
  'isIn',
  'isIso8601',
  'matches',
];

function rank(rule: string): number {
  const at = RULE_PRIORITY.indexOf(rule);
  return at === -1 ? RULE_PRIORITY.length : at;
}

/** The one message for a field: "is required" when it is missing, else its most telling rule. */
export function messageFor(error: ValidationError, field: string): string | undefined {
  const rules = Object.keys(error.constraints ?? {});
  if (rules.length === 0) return undefined;
  // Nest's pipe removes the value of an error that has children (a list with bad items), so a
  // missing value only means "missing" when there are none.
  if (
    error.value === undefined &&
    !(error.children?.length ?? 0) &&
    !rules.includes('whitelistValidation')
  ) {
    return `${field} is required`;
  }
  const [first] = rules.sort((a, b) => rank(a) - rank(b));
  return error.constraints?.[first];
}

function flatten(errors: ValidationError[], parent: string): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const message = messageFor(error, field);
    const own = message === undefined ? [] : [{ field, message }];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
