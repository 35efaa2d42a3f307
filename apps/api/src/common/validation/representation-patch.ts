import type { FieldProblem } from '../errors/domain-errors';
import { InvalidRequestError } from '../errors/domain-errors';
import { isPlainJsonObject } from './json-object.validator';

/** Checks one writable member of a merge patch; returns a message when the value is refused. */
export type MemberCheck = (value: unknown) => string | undefined;

export interface RepresentationShape {
  /** What the resource is called in messages ("session", "memory record"). */
  resource: string;
  writable: Record<string, MemberCheck>;
  /** Members the GET representation shows but no client may change. */
  readOnly: readonly string[];
  /** Appended to the message for a member the representation does not have. */
  unknownHint?: string;
}

/**
 * An RFC 7396 merge patch applies to the resource's representation (what GET returns), so its
 * members are the representation's members. Refuses, naming each field, what a patch cannot mean:
 * read-only members, members the resource does not have, and values a writable member cannot take.
 */
export function checkRepresentationPatch(
  patch: Record<string, unknown>,
  shape: RepresentationShape,
): void {
  const problems: FieldProblem[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const check = Object.prototype.hasOwnProperty.call(shape.writable, field)
      ? shape.writable[field]
      : undefined;
    if (check) {
      const message = check(value);
      if (message) problems.push({ field, message });
    } else if (shape.readOnly.includes(field)) {
      problems.push({ field, message: `is read-only; a merge patch cannot change it` });
    } else {
      problems.push({
        field,
        message: `is not a field of the ${shape.resource}${shape.unknownHint ? `; ${shape.unknownHint}` : ''}`,
      });
    }
  }
  if (Object.keys(patch).length === 0) {
    problems.push({
      field: 'body',
      message: `give at least one of ${Object.keys(shape.writable).join(', ')}`,
    });
  }
  if (problems.length > 0) throw new InvalidRequestError(problems);
}

/** A member that is itself merged (RFC 7396) into a stored JSON object: null would remove it. */
export const mergedObject: MemberCheck = (value) =>
  isPlainJsonObject(value)
    ? undefined
    : value === null
      ? 'cannot be removed; set keys inside it to null to remove those keys'
      : 'must be a JSON object (it is merged into the stored object)';

export function matching(pattern: RegExp, rule: string): MemberCheck {
  return (value) => (typeof value === 'string' && pattern.test(value) ? undefined : rule);
}
