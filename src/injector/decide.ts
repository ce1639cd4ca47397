// Whether a pod gets the sidecar, and in which form. Pure: pod in, decision out.
import type { Pod } from './admission.js';
import { ANNOTATION } from './options.js';

/**
 * `annotation`: the pod opts in with switchyard.dev/inject: "true" (webhook path /mutate).
 * `namespace`: the pod's namespace is labelled switchyard.dev/inject=enabled, so every pod is
 * injected unless it opts out (webhook path /mutate/namespace; the API server picks the path by
 * the webhook entry's namespaceSelector, since namespace labels are not in the AdmissionReview).
 */
export type InjectScope = 'annotation' | 'namespace';
export type SidecarMode = 'native' | 'container';

export type Decision =
  | { inject: true; mode: SidecarMode; warnings: string[] }
  | { inject: false; reason: string; warnings: string[] };

export function decide(pod: Pod, scope: InjectScope, sidecarPort: number): Decision {
  const annotations = pod.metadata?.annotations ?? {};
  const flag = annotations[ANNOTATION.inject]?.trim().toLowerCase();
  if (flag === 'false') return { inject: false, reason: `${ANNOTATION.inject} is "false"`, warnings: [] };
  if (scope === 'annotation' && flag !== 'true') {
    return { inject: false, reason: `${ANNOTATION.inject} is not "true"`, warnings: [] };
  }
  if (pod.spec.hostNetwork) {
    // Every such pod would bind the same node port; two of them on one node would crash-loop.
    return { inject: false, reason: 'hostNetwork pod', warnings: ['switchyard: not injected into a hostNetwork pod'] };
  }
  const clash = pod.spec.containers.find((c) => c.ports?.some((p) => p.containerPort === sidecarPort));
  if (clash) {
    return {
      inject: false,
      reason: 'port clash',
      warnings: [`switchyard: not injected, container "${clash.name}" already uses port ${sidecarPort}`],
    };
  }
  const rawMode = annotations[ANNOTATION.mode]?.trim().toLowerCase();
  if (rawMode === undefined || rawMode === '' || rawMode === 'native')
    return { inject: true, mode: 'native', warnings: [] };
  if (rawMode === 'container') return { inject: true, mode: 'container', warnings: [] };
  return {
    inject: true,
    mode: 'native',
    warnings: [`switchyard: unknown ${ANNOTATION.mode} "${rawMode}", using a native sidecar`],
  };
}
