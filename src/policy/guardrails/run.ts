// Runs one phase's guardrails over the text slots: every check of every guardrail, timed, with one
// span event each (ids, verdict, duration: never the text); redact rewrites the slots in place.
import type { EventRecord } from '../../telemetry/records.js';
import type { Slot } from './subject.js';
import type { CheckResult, Guardrail, GuardrailVerdict, Subject } from './types.js';

export interface PhaseOutcome {
  verdicts: GuardrailVerdict[];
  /** A failing guardrail with action block. */
  denied: boolean;
  /** A failing guardrail with action retry (output). */
  retry: boolean;
  /** A failing guardrail with action warn. */
  warned: boolean;
  /** A failing guardrail with action redact (the slots were rewritten). */
  redacted: boolean;
  /** The first denying (else retrying) guardrail's message. */
  message?: string;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** What the checks of one phase read besides the text slots. */
export interface PhaseContext {
  model: string;
  metadata: Record<string, string>;
  body?: Record<string, unknown>;
  request?: Record<string, unknown>;
}

function subject(slots: readonly Slot[], pc: PhaseContext, phase: Guardrail['phase']): Subject {
  const parts = slots.map((s) => s.get());
  return {
    parts,
    text: parts.join('\n'),
    model: pc.model,
    metadata: pc.metadata,
    phase,
    body: pc.body,
    request: pc.request,
  };
}

export async function runPhase(
  guardrails: readonly Guardrail[],
  slots: readonly Slot[],
  pc: PhaseContext,
  events: EventRecord[],
  attempt?: number,
): Promise<PhaseOutcome> {
  const out: PhaseOutcome = { verdicts: [], denied: false, retry: false, warned: false, redacted: false };
  if (guardrails.length === 0) return out;
  const phase = guardrails[0].phase;
  let s = subject(slots, pc, phase);
  for (const g of guardrails) {
    const gStart = performance.now();
    const v: GuardrailVerdict = {
      id: g.id,
      verdict: true,
      action: g.action,
      deny: g.action === 'block',
      checks: [],
      execution_time: 0,
    };
    const failing = [];
    for (const c of g.checks) {
      const t0 = performance.now();
      let r: CheckResult;
      try {
        const x = c.run(s);
        r = x instanceof Promise ? await x : x;
      } catch (e) {
        // A check that throws fails (closed), and says so without the text.
        r = { verdict: false, error: `check failed to run: ${(e as Error).name}` };
      }
      const ms = round(performance.now() - t0);
      v.checks.push(
        r.error
          ? { id: c.id, verdict: r.verdict, execution_time: ms, error: r.error }
          : { id: c.id, verdict: r.verdict, execution_time: ms },
      );
      if (!r.verdict) failing.push(c);
      const attrs: EventRecord['attributes'] = {
        'switchyard.guardrail.id': g.id,
        'switchyard.guardrail.check': c.id,
        'switchyard.guardrail.phase': g.phase,
        'switchyard.guardrail.verdict': r.verdict ? 'pass' : 'fail',
        'switchyard.guardrail.action': g.action,
        'switchyard.guardrail.duration_ms': ms,
      };
      if (attempt !== undefined) attrs['switchyard.attempt'] = attempt;
      events.push({
        name: 'switchyard.guardrail',
        time: performance.timeOrigin + performance.now(),
        attributes: attrs,
      });
    }
    v.verdict = failing.length === 0;
    v.execution_time = round(performance.now() - gStart);
    out.verdicts.push(v);
    if (v.verdict) continue;
    if (g.action === 'block') {
      if (!out.denied) out.message = g.message ?? `denied by guardrail "${g.id}" (${g.phase})`;
      out.denied = true;
    } else if (g.action === 'retry') {
      if (!out.denied && !out.retry) out.message = g.message ?? `the answer failed guardrail "${g.id}"`;
      out.retry = true;
    } else if (g.action === 'warn') out.warned = true;
    else {
      for (const slot of slots) {
        let t = slot.get();
        for (const c of failing) t = c.redact!(t);
        slot.set(t);
      }
      out.redacted = true;
      s = subject(slots, pc, phase);
    }
  }
  return out;
}
