// What a stage does when the shared state store does not answer: fail_closed refuses the
// request with 503; fail_open serves it unmetered and says so on the request span (and in
// the switchyard.policy.fail_open metric the span feeds).
import { logger } from '../../logger.js';
import { PolicyStoreUnavailableError } from '../errors.js';
import type { PipelineContext } from '../pipeline.js';
import { isStateStoreUnavailable } from '../state/types.js';

export type OnStoreError = 'fail_closed' | 'fail_open';

/** Runs a store call before the answer: its result, or undefined when failing open. */
export async function admitWith<T>(
  mode: OnStoreError,
  ctx: PipelineContext,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (e) {
    if (!isStateStoreUnavailable(e)) throw e;
    if (mode === 'fail_closed') throw new PolicyStoreUnavailableError();
    ctx.attributes['switchyard.policy.fail_open'] = true;
    return undefined;
  }
}

/** Runs a store call after the answer is decided: never fails the response, only logs. */
export async function afterwards(what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    logger.error(`policy: ${what} failed`, { error: (e as Error).message });
  }
}
