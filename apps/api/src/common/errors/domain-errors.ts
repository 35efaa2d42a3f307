/**
 * Errors the services raise. They name what went wrong in domain terms; ProblemDetailsFilter is the
 * only place that turns them into HTTP.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
}

export type DomainErrorCode =
  'not_found' | 'version_mismatch' | 'payload_too_large' | 'invalid_request' | 'conflict';

export class ResourceNotFoundError extends DomainError {
  readonly code = 'not_found';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} was not found`);
  }
}

export class VersionMismatchError extends DomainError {
  readonly code = 'version_mismatch';
  constructor(
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      `If-Match expected version ${expectedVersion}, but the current version is ${currentVersion}`,
    );
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
  constructor(
    readonly fields: string[],
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`${fields.join(' + ')} take ${bytes} bytes; the limit is ${limitBytes}`);
  }
}

/** A request that passed DTO validation but breaks a rule that needs configuration or context. */
export class InvalidRequestError extends DomainError {
  readonly code = 'invalid_request';
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }

  static field(field: string, message: string): InvalidRequestError {
    return new InvalidRequestError([{ field, message }]);
  }
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}
