// What a stage does when the shared state store does not answer: fail_closed refuses the
// request with 503; fail_open serves it unmetered and says so on the request span (and in
// the switchyard.policy.fail_open metric the span feeds). A local store answers at once, so
// these take a call that returns a value or a promise and stay synchronous for the former.
import { logger } from '../../logger.js';
import { PolicyStoreUnavailableError } from '../errors.js';
import type { PipelineContext } from '../pipeline.js';
import { isStateStoreUnavailable } from '../state/types.js';

export type OnStoreError = 'fail_closed' | 'fail_open';

function unavailable(mode: OnStoreError, ctx: PipelineContext, e: unknown): undefined {
  if (!isStateStoreUnavailable(e)) throw e;
  if (mode === 'fail_closed') throw new PolicyStoreUnavailableError();
  ctx.attributes['switchyard.policy.fail_open'] = true;
  return undefined;
}

/** Runs a store call before the answer: its result, or undefined when failing open. */
export function admitWith<T>(
  mode: OnStoreError,
  ctx: PipelineContext,
  call: () => T | Promise<T>,
): T | undefined | Promise<T | undefined> {
  let r: T | Promise<T>;
  try {
    r = call();
  } catch (e) {
    return unavailable(mode, ctx, e);
  }
  return r instanceof Promise ? r.then(undefined, (e: unknown) => unavailable(mode, ctx, e)) : r;
}

/** Runs a store call after the answer is decided: never fails the response, only logs. The
 *  promise (a remote store's) is for callers that must wait; most do not. */
export function afterwards(what: string, call: () => unknown): Promise<void> | undefined {
  const log = (e: unknown) => logger.error(`policy: ${what} failed`, { error: (e as Error).message });
  try {
    const r = call();
    if (r instanceof Promise) return r.then(() => undefined, log);
  } catch (e) {
    log(e);
  }
  return undefined;
}
