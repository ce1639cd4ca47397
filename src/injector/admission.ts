// AdmissionReview v1 (admission.k8s.io/v1) as far as the injector reads it. The pod schema
// checks only the fields the planner touches and keeps every other field (looseObject), so a
// pod the planner cannot reason about is caught here rather than half-patched.
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());

const envVarSchema = z.looseObject({ name: z.string().min(1) });

export const containerSchema = z.looseObject({
  name: z.string().min(1),
  env: z.array(envVarSchema).nullish(),
  ports: z.array(z.looseObject({ containerPort: z.number().int() })).nullish(),
});

export const podSchema = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().nullish(),
      generateName: z.string().nullish(),
      namespace: z.string().nullish(),
      labels: stringMap.nullish(),
      annotations: stringMap.nullish(),
    })
    .nullish(),
  spec: z.looseObject({
    containers: z.array(containerSchema).min(1),
    initContainers: z.array(containerSchema).nullish(),
    volumes: z.array(z.looseObject({ name: z.string().min(1) })).nullish(),
    hostNetwork: z.boolean().nullish(),
  }),
});
export type Pod = z.infer<typeof podSchema>;
export type Container = z.infer<typeof containerSchema>;

const groupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string() });

// Only uid is needed to answer at all; the rest is checked separately so a malformed pod still
// gets an allowed:true answer (never block a pod) instead of a 400.
export const admissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: groupVersionKind.optional(),
    resource: z.looseObject({ group: z.string(), version: z.string(), resource: z.string() }).optional(),
    subResource: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.string().optional(),
    dryRun: z.boolean().optional(),
    object: z.unknown().optional(),
  }),
});
export type AdmissionReview = z.infer<typeof admissionReviewSchema>;
export type AdmissionRequest = AdmissionReview['request'];

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface AdmissionResponseReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: true;
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
  };
}

/** Always allowed: the injector adds a sidecar or does nothing, it never blocks a pod. */
export function admissionResponse(uid: string, ops: JsonPatchOp[], warnings: string[]): AdmissionResponseReview {
  const response: AdmissionResponseReview['response'] = { uid, allowed: true };
  if (ops.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
  }
  if (warnings.length > 0) response.warnings = warnings;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
