import type { ExecutionContext } from '@nestjs/common';

type Targets = [
  handler: ReturnType<ExecutionContext['getHandler']>,
  type: ReturnType<ExecutionContext['getClass']>,
];

/**
 * What a guard reads from a route's decorators, worked out on the route's first request and kept
 * per handler and controller: decorators never change at run time, and the reflector's lookups
 * (several per guard, three guards) were a measurable part of every request.
 */
export function routeMemo<T>(compute: (targets: Targets) => T): (context: ExecutionContext) => T {
  const byHandler = new WeakMap<object, WeakMap<object, { value: T }>>();
  return (context) => {
    const handler = context.getHandler();
    const type = context.getClass();
    let byType = byHandler.get(handler);
    if (byType === undefined) {
      byType = new WeakMap();
      byHandler.set(handler, byType);
    }
    let known = byType.get(type);
    if (known === undefined) {
      known = { value: compute([handler, type]) };
      byType.set(type, known);
    }
    return known.value;
  };
}
