// The policy stages' failures: one class each, with the status and stable code the contract
// names (DESIGN.md "Headers and statuses"). Headers travel with the error (Retry-After,
// RateLimit-*), so the gateway writes them on the error response as on a success.
import { HttpError } from '../gateway/errors.js';

export class PolicyError extends HttpError {
  constructor(
    status: number,
    message: string,
    code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, message, code);
    this.name = new.target.name;
  }
}

/** Unknown, expired or disabled key, or none where one is required. Never says which. */
export class UnauthorizedError extends PolicyError {
  constructor(message = 'invalid or missing virtual key') {
    super(401, message, 'invalid_api_key');
  }
}

export class ForbiddenError extends PolicyError {
  constructor(message: string) {
    super(403, message, 'not_allowed');
  }
}

export class RateLimitedError extends PolicyError {
  constructor(message: string, headers: Record<string, string>) {
    super(429, message, 'rate_limited', headers);
  }
}

export class BudgetExceededError extends PolicyError {
  constructor(message: string) {
    super(412, message, 'budget_exceeded');
  }
}

/** The shared state store did not answer and the config says fail_closed. */
export class PolicyStoreUnavailableError extends PolicyError {
  constructor() {
    super(
      503,
      'the shared policy state store (state.store) is unavailable; limits cannot be checked (state.on_store_error: fail_closed)',
      'state_store_unavailable',
    );
  }
}

/** A guardrail denied the request (input) or every answer (output): 446 with hook_results, never the matched text. */
export class GuardrailBlockedError extends PolicyError {
  constructor(message: string, hookResults: Record<string, unknown>) {
    super(446, message, 'guardrail_denied');
    this.extra = { hook_results: hookResults };
  }
}
