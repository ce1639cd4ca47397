// The client's side of a request: it aborts when the client goes. An AbortController costs ~2-4 µs
// to make and its EventTarget listeners ~1 µs each to add and remove (Node 20), once per request
// and per attempt; most requests never need one. So attempts watch this with a plain callback, and
// an AbortSignal is made only when something asks for it (a hedged race, a backoff sleep).

/** aborted/reason as an AbortSignal has them, and an AbortSignal made only when asked for. */
export abstract class LazyAbort {
  aborted = false;
  reason: unknown;
  private controller?: AbortController;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onAborted(reason);
  }

  /** What else aborting does (after `signal` has fired). */
  protected abstract onAborted(reason: unknown): void;
}

export class ClientLink extends LazyAbort {
  private readonly watchers: Array<(reason: unknown) => void> = [];

  protected onAborted(reason: unknown): void {
    for (const w of this.watchers.splice(0)) w(reason);
  }

  watch(fn: (reason: unknown) => void): void {
    this.watchers.push(fn);
  }

  unwatch(fn: (reason: unknown) => void): void {
    const i = this.watchers.indexOf(fn);
    if (i >= 0) this.watchers.splice(i, 1);
  }
}

/** What stands for the client in the executor: a link, or a plain signal (a race slot's, a caller's). */
export type ClientSignal = AbortSignal | ClientLink;

export function abortSignalOf(s: ClientSignal): AbortSignal {
  return s instanceof ClientLink ? s.signal : s;
}
