import { ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

/**
 * A field the caller may leave out — but not send as `null`.
 *
 * class-validator's `@IsOptional()` skips every rule for `null` as well as for a missing field, so
 * `{"created_by": null}` reached the service as if it were a value: ioredis wrote it as "" on the
 * record and the membership index held "null". The contract has no nullable fields; a `null` is
 * a 400 that names the field, like any other wrong type.
 */
export function Optional(options?: ValidationOptions): PropertyDecorator {
  const skipWhenAbsent = ValidateIf((_object: object, value: unknown) => value !== undefined);
  const rejectNull = ValidateBy(
    {
      name: 'notNull',
      validator: {
        validate: (value: unknown) => value !== null,
        defaultMessage: (args) =>
          `${args?.property ?? 'field'} may be left out but must not be null`,
      },
    },
    options,
  );
  return (target: object, propertyName: string | symbol) => {
    skipWhenAbsent(target, propertyName);
    rejectNull(target, propertyName);
  };
}
