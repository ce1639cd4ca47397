// W3C trace context and baggage for extracting the caller's context on the request path (its
// own module: the request thread needs only the OTel API and these propagators, not the SDK).
import { propagation } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

export function installPropagator(): void {
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}
