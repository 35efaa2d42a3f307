import type { ExecutionContext } from '@nestjs/common';
import { RESPONSE_PASSTHROUGH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';

/**
 * A read's rate-limit verdict, still on its way from Redis while the handler reads. The guard
 * stores it on the request; installRateLimitVerdict's hook awaits it before anything is answered.
 */
const VERDICT = Symbol('masa.rateLimitVerdict');

type WithVerdict = { [VERDICT]?: Promise<boolean> };

export function deferVerdict(request: object, verdict: Promise<boolean>): void {
  // Awaited by the interceptor; this only keeps a refusal that nobody awaits yet from counting as
  // an unhandled rejection in between.
  verdict.catch(() => undefined);
  (request as WithVerdict)[VERDICT] = verdict;
}

export function deferredVerdictOf(request: object): Promise<boolean> | undefined {
  return (request as WithVerdict)[VERDICT];
}

const manualResponse = new WeakMap<object, boolean>();

/**
 * True when the handler writes the response itself (`@Res()` without passthrough): it would answer
 * before a deferred verdict could refuse it, so such routes always wait for the verdict.
 */
export function answersItself(context: ExecutionContext): boolean {
  const handler = context.getHandler();
  let known = manualResponse.get(handler);
  if (known === undefined) {
    const controller = context.getClass();
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ??
      {}) as Record<string, unknown>;
    const injectsReply = Object.keys(args).some((key) => {
      const type = Number(key.split(':')[0]);
      return type === Number(RouteParamtypes.RESPONSE) || type === Number(RouteParamtypes.NEXT);
    });
    known =
      injectsReply &&
      Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, handler.name) !== true;
    manualResponse.set(handler, known);
  }
  return known;
}
