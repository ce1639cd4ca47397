// One AdmissionReview in, one AdmissionReview out. Whatever goes wrong past the uid, the pod is
// allowed unchanged with a warning: a broken injector must never stop a workload from starting.
import { admissionResponse, admissionReviewSchema, podSchema, type AdmissionResponseReview } from './admission.js';
import type { InjectScope } from './decide.js';
import type { InjectorOptions } from './options.js';
import { planPatch, type Plan } from './planner.js';

export type ReviewOutcome =
  | { ok: true; review: AdmissionResponseReview; plan: Plan | null }
  | { ok: false; status: 400; message: string };

export function handleReview(body: unknown, scope: InjectScope, options: InjectorOptions): ReviewOutcome {
  const parsed = admissionReviewSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    return {
      ok: false,
      status: 400,
      message: `not an admission.k8s.io/v1 AdmissionReview: ${where}: ${issue.message}`,
    };
  }
  const request = parsed.data.request;
  const uid = request.uid;

  const isPod = request.kind?.kind === 'Pod' && request.kind.group === '';
  if (!isPod || request.operation !== 'CREATE' || request.subResource) {
    return { ok: true, review: admissionResponse(uid, [], []), plan: null };
  }
  const pod = podSchema.safeParse(request.object);
  if (!pod.success) {
    const issue = pod.error.issues[0];
    const warning = `switchyard: sidecar not injected, unreadable pod at ${issue.path.join('.') || 'object'}: ${issue.message}`;
    return { ok: true, review: admissionResponse(uid, [], [warning]), plan: null };
  }
  try {
    const plan = planPatch(pod.data, scope, options);
    return { ok: true, review: admissionResponse(uid, plan.ops, plan.warnings), plan };
  } catch (err) {
    const warning = `switchyard: sidecar not injected, internal error: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: true, review: admissionResponse(uid, [], [warning]), plan: null };
  }
}
