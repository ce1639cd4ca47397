// What can end an attempt early: its phase timer, the request deadline, the client leaving (or a
// hedge sibling winning, through the lane's signal). One object per attempt, cheap on the common
// path: a buffered call gets one timer and undici's own abort function, and an AbortSignal is made
// only when something asks for one (async auth, the streaming body).
import { ClientLink, type ClientSignal, LazyAbort } from './client-link.js';
import { AbortReason } from './outcome.js';

export class AttemptGate extends LazyAbort {
  private cancel?: (reason: Error) => void;
  private phase?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  // Forwarding by hand: AbortSignal.any is slow and keeps signals alive on Node 20.
  private readonly onClient = () => this.abort(this.client.reason);

  constructor(
    private readonly deadlineAt: number,
    private readonly client: ClientSignal,
  ) {
    super();
    if (client.aborted) this.abort(client.reason);
    else if (client instanceof ClientLink) client.watch(this.onClient);
    else client.addEventListener('abort', this.onClient, { once: true });
  }

  protected onAborted(reason: unknown): void {
    this.cancel?.(reason as Error);
  }

  /** undici's abort for the call in flight (its handler's onConnect). */
  attach(cancel: (reason: Error) => void): void {
    if (this.aborted) cancel(this.reason as Error);
    else this.cancel = cancel;
  }

  /**
   * A phase of `ms` (undefined: none), bounded by the deadline. Buffered calls have one phase, so
   * one timer covers both; a stream re-arms and refreshes its phase, so it keeps the deadline apart.
   */
  arm(ms: number | undefined, stream = false): void {
    clearTimeout(this.phase);
    const left = Math.max(0, this.deadlineAt - Date.now());
    if (stream) {
      this.deadline ??= setTimeout(() => this.abort(new AbortReason('deadline')), left);
      this.phase = ms === undefined ? undefined : setTimeout(() => this.abort(new AbortReason('timeout')), ms);
    } else if (ms === undefined || ms >= left) {
      this.phase = setTimeout(() => this.abort(new AbortReason('deadline')), left);
    } else {
      this.phase = setTimeout(() => this.abort(new AbortReason('timeout')), ms);
    }
  }

  /** A chunk arrived: the idle phase starts over. */
  touch(): void {
    this.phase?.refresh();
  }

  clear(): void {
    clearTimeout(this.phase);
    clearTimeout(this.deadline);
    this.cancel = undefined;
    if (this.client instanceof ClientLink) this.client.unwatch(this.onClient);
    else this.client.removeEventListener('abort', this.onClient);
  }
}
