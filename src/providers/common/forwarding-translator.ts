// A stream translator that wraps another and changes only what its events turn into: usage,
// finish reasons and ids are the inner translator's (undici's DecoratorHandler pattern).
import type { SseEvent, StreamTranslator, Usage } from '../types.js';

export abstract class ForwardingTranslator implements StreamTranslator {
  constructor(protected readonly inner: StreamTranslator) {}
  get done(): boolean {
    return this.inner.done;
  }
  get usage(): Usage {
    return this.inner.usage;
  }
  get finishReasons(): string[] {
    return this.inner.finishReasons;
  }
  get responseModel(): string | undefined {
    return this.inner.responseModel;
  }
  get responseId(): string | undefined {
    return this.inner.responseId;
  }
  abstract onEvent(ev: SseEvent): Array<Record<string, unknown>>;
}
