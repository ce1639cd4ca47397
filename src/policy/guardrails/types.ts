// The one model every guardrail config shape normalises to (config.ts): guardrails, each a list
// of checks with one action, on the input (before any provider is called) or the output (each
// answer, judged inside the executor so that `retry` is a failed attempt).

export type Phase = 'input' | 'output';
export type Action = 'block' | 'warn' | 'retry' | 'redact';

/** What a check reads: the text parts it sees, and the request around them. */
export interface Subject {
  /** Text parts: message texts, tool results, tool-call arguments (input); answer text and tool-call arguments (output). */
  parts: string[];
  /** The parts joined by newlines (what count and text checks read). */
  text: string;
  /** The model the request asked for (after "@slug/" is removed) or the provider answered with. */
  model: string;
  metadata: Record<string, string>;
  phase: Phase;
  /** The request body (input) or the answer's body (output; for a held stream, its text assembled). */
  body?: Record<string, unknown>;
  /** Set for output checks: the request they answer. */
  request?: Record<string, unknown>;
}

export interface CheckResult {
  /** true: the check passed. */
  verdict: boolean;
  /** Set when the check could not run (never the matched text). */
  error?: string;
}

export interface Check {
  /** Portkey's id where one exists (default.contains), ours otherwise (pii). */
  readonly id: string;
  run(s: Subject): CheckResult | Promise<CheckResult>;
  /** For checks that locate what they deny (pii, deny lists): the text with every match replaced. */
  redact?(text: string): string;
}

export interface Guardrail {
  /** The guardrail's id: its name in the file's `guardrails:` map, its own `id`, or `<phase>.<index>`. */
  readonly id: string;
  readonly phase: Phase;
  readonly action: Action;
  readonly message?: string;
  readonly checks: readonly Check[];
}

export interface GuardrailSet {
  readonly input: readonly Guardrail[];
  readonly output: readonly Guardrail[];
}

/** One check's verdict as hook_results and span events carry it: ids and verdicts, never text. */
export interface CheckVerdict {
  id: string;
  verdict: boolean;
  execution_time: number;
  error?: string;
}

export interface GuardrailVerdict {
  id: string;
  verdict: boolean;
  action: Action;
  /** Portkey's flag: a failing verdict denies the request. */
  deny: boolean;
  checks: CheckVerdict[];
  execution_time: number;
}
