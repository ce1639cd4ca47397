// Shapes of the JSON error bodies that several tests parse from raw HTTP answers and SDK errors.

/**
 * An error answer: OpenAI's `{ error }`, Anthropic's `{ type: 'error', error }`; the gateway's own
 * answers add `status` and the upstream `attempts`, a guardrail's 446 adds `hook_results`.
 */
export interface ErrorBody {
  type?: string;
  error: {
    message: string;
    type: string;
    param?: string | null;
    code?: string | null;
    status?: number;
    attempts?: Record<string, unknown>[];
  };
  hook_results?: Record<string, unknown>;
}
