// The mutation planner: pod (+ scope and options) → RFC 6902 JSON Patch ops. Pure and
// idempotent: planning again on its own output yields no ops, which is what reinvocation
// (reinvocationPolicy: IfNeeded) relies on.
import type { JsonPatchOp, Pod } from './admission.js';
import { decide, type InjectScope } from './decide.js';
import { ANNOTATION, SIDECAR_NAME, type InjectorOptions } from './options.js';
import { appEnv, buildSidecar } from './sidecar.js';

export interface Plan {
  ops: JsonPatchOp[];
  warnings: string[];
  /** injected: sidecar added now; updated: sidecar was there, env topped up; skipped: nothing. */
  result: 'injected' | 'updated' | 'skipped';
  reason?: string;
}

/** RFC 6901: "~" → "~0" then "/" → "~1" (annotation keys such as switchyard.dev/status). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Append items to an array that may not exist yet: one "add" of the whole array, or "-" adds. */
function appendOps(path: string, existing: unknown[] | null | undefined, items: unknown[]): JsonPatchOp[] {
  if (items.length === 0) return [];
  if (!existing) return [{ op: 'add', path, value: items }];
  return items.map((value) => ({ op: 'add' as const, path: `${path}/-`, value }));
}

function hasSidecar(pod: Pod): boolean {
  const named = (c: { name: string }) => c.name === SIDECAR_NAME;
  return pod.spec.containers.some(named) || (pod.spec.initContainers ?? []).some(named);
}

export function planPatch(pod: Pod, scope: InjectScope, options: InjectorOptions): Plan {
  const decision = decide(pod, scope, options.port);
  if (!decision.inject) return { ops: [], warnings: decision.warnings, result: 'skipped', reason: decision.reason };

  const warnings = [...decision.warnings];
  const ops: JsonPatchOp[] = [];
  const alreadyInjected = hasSidecar(pod);

  if (!alreadyInjected) {
    const { container, volumes } = buildSidecar(pod, decision.mode, options);
    if (!pod.metadata?.annotations?.[ANNOTATION.config]) {
      warnings.push(`switchyard: no ${ANNOTATION.config} annotation, the sidecar runs its built-in example config`);
    }
    const annotations = pod.metadata?.annotations;
    if (!pod.metadata) ops.push({ op: 'add', path: '/metadata', value: {} });
    if (!annotations) {
      ops.push({ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION.status]: 'injected' } });
    } else {
      ops.push({ op: 'add', path: `/metadata/annotations/${escapePointer(ANNOTATION.status)}`, value: 'injected' });
    }

    const existingVolumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
    ops.push(
      ...appendOps(
        '/spec/volumes',
        pod.spec.volumes,
        volumes.filter((v) => !existingVolumes.has(String(v.name))),
      ),
    );

    if (decision.mode === 'native') {
      // First, so the other init containers can already call the sidecar.
      if (!pod.spec.initContainers) ops.push({ op: 'add', path: '/spec/initContainers', value: [container] });
      else ops.push({ op: 'add', path: '/spec/initContainers/0', value: container });
    } else {
      // Last, so the app stays the default container of `kubectl logs/exec`.
      ops.push({ op: 'add', path: '/spec/containers/-', value: container });
    }
  }

  const baseUrls = pod.metadata?.annotations?.[ANNOTATION.baseUrls]?.trim().toLowerCase();
  if (baseUrls !== 'false') {
    const wanted = appEnv(options);
    pod.spec.containers.forEach((c, i) => {
      if (c.name === SIDECAR_NAME) return;
      const have = new Set((c.env ?? []).map((e) => e.name));
      ops.push(
        ...appendOps(
          `/spec/containers/${i}/env`,
          c.env,
          wanted.filter((e) => !have.has(e.name)),
        ),
      );
    });
  }

  if (ops.length === 0) return { ops, warnings, result: 'skipped', reason: 'already injected' };
  return { ops, warnings, result: alreadyInjected ? 'updated' : 'injected' };
}
