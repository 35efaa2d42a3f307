import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import type { FieldProblem } from '../errors/domain-errors';

/** Thrown by the global ValidationPipe; carries one entry per offending field (dotted path). */
export class RequestValidationError extends BadRequestException {
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }

  static fromClassValidator(errors: ValidationError[]): RequestValidationError {
    return new RequestValidationError(flatten(errors, ''));
  }
}

/**
 * When one value breaks several rules (`?limit=abc` is not an integer, not >= 1, not <= 100), the
 * caller gets the rule that says what the value must be; range and format rules come after it.
 */
const RULE_PRIORITY = [
  'whitelistValidation',
  'isDefined',
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
  if (error.value === undefined && !rules.includes('whitelistValidation')) {
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
