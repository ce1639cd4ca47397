// The sidecar container, its volumes and the env given to app containers. Pure builders.
import type { Pod } from './admission.js';
import type { SidecarMode } from './decide.js';
import {
  ANNOTATION,
  CONFIG_MOUNT_PATH,
  CONFIG_VOLUME,
  SIDECAR_NAME,
  TMP_VOLUME,
  type InjectorOptions,
} from './options.js';

export type EnvVar = { name: string; value?: string; valueFrom?: Record<string, unknown> };

const fieldRef = (fieldPath: string) => ({ fieldRef: { apiVersion: 'v1', fieldPath } });

/** The Deployment that owns the pod: its ReplicaSet's generateName minus the pod-template-hash. */
export function deploymentName(pod: Pod): string | undefined {
  const gen = pod.metadata?.generateName;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  return gen && hash && gen.endsWith(`-${hash}-`) ? gen.slice(0, -(hash.length + 2)) : undefined;
}

/**
 * The service name for the sidecar's spans: the app's own name, so llm_requests.ServiceName
 * says which app made the call. Labels are read through the Downward API (live values).
 */
export function serviceNameEnv(pod: Pod): EnvVar {
  const meta = pod.metadata ?? {};
  const labels = meta.labels ?? {};
  const explicit = meta.annotations?.[ANNOTATION.serviceName]?.trim();
  if (explicit) return { name: 'OTEL_SERVICE_NAME', value: explicit };
  for (const key of ['app.kubernetes.io/name', 'app']) {
    if (labels[key]) return { name: 'OTEL_SERVICE_NAME', valueFrom: fieldRef(`metadata.labels['${key}']`) };
  }
  const name = deploymentName(pod) ?? meta.name ?? meta.generateName?.replace(/-+$/, '');
  return { name: 'OTEL_SERVICE_NAME', value: name || pod.spec.containers[0].name };
}

function sidecarEnv(pod: Pod, options: InjectorOptions, configPath: string | undefined): EnvVar[] {
  const annotations = pod.metadata?.annotations ?? {};
  const secret = annotations[ANNOTATION.secret]?.trim();
  const env: EnvVar[] = [
    { name: 'SWITCHYARD_PORT', value: String(options.port) },
    // The kubelet probes the pod IP, not loopback; the port stays closed to other pods through
    // the app's NetworkPolicy (see docs/kubernetes.md).
    { name: 'SWITCHYARD_HOST', value: '0.0.0.0' },
  ];
  if (configPath) env.push({ name: 'SWITCHYARD_CONFIG', value: configPath });
  env.push(
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: options.collectorEndpoint },
    // The K8S_* names are what src/telemetry reads; OTEL_RESOURCE_ATTRIBUTES carries the same
    // values for any OTel SDK.
    { name: 'K8S_POD_NAME', valueFrom: fieldRef('metadata.name') },
    { name: 'K8S_NAMESPACE_NAME', valueFrom: fieldRef('metadata.namespace') },
    { name: 'K8S_POD_UID', valueFrom: fieldRef('metadata.uid') },
    { name: 'K8S_NODE_NAME', valueFrom: fieldRef('spec.nodeName') },
    { name: 'K8S_CONTAINER_NAME', value: SIDECAR_NAME },
  );
  const attrs = [
    'k8s.pod.name=$(K8S_POD_NAME)',
    'k8s.namespace.name=$(K8S_NAMESPACE_NAME)',
    'k8s.pod.uid=$(K8S_POD_UID)',
    'k8s.node.name=$(K8S_NODE_NAME)',
    'k8s.container.name=$(K8S_CONTAINER_NAME)',
  ];
  const deployment = deploymentName(pod);
  if (deployment) {
    env.push({ name: 'K8S_DEPLOYMENT_NAME', value: deployment });
    attrs.push('k8s.deployment.name=$(K8S_DEPLOYMENT_NAME)');
  }
  // $(VAR) expands from the variables defined above it in this list.
  env.push(serviceNameEnv(pod), { name: 'OTEL_RESOURCE_ATTRIBUTES', value: attrs.join(',') });
  if (secret) {
    for (const key of options.secretKeys) {
      env.push({ name: key, valueFrom: { secretKeyRef: { name: secret, key, optional: true } } });
    }
  }
  return env;
}

export interface SidecarParts {
  container: Record<string, unknown>;
  volumes: Record<string, unknown>[];
}

export function buildSidecar(pod: Pod, mode: SidecarMode, options: InjectorOptions): SidecarParts {
  const annotations = pod.metadata?.annotations ?? {};
  const configMap = annotations[ANNOTATION.config]?.trim();
  const configKey = annotations[ANNOTATION.configKey]?.trim() || 'config.yaml';
  const configPath = configMap ? `${CONFIG_MOUNT_PATH}/${configKey}` : undefined;

  const volumes: Record<string, unknown>[] = [{ name: TMP_VOLUME, emptyDir: { sizeLimit: '64Mi' } }];
  const volumeMounts: Record<string, unknown>[] = [{ name: TMP_VOLUME, mountPath: '/tmp' }];
  if (configMap) {
    // The whole ConfigMap as a directory (no subPath) so edits reach the sidecar's hot reload.
    volumes.push({ name: CONFIG_VOLUME, configMap: { name: configMap } });
    volumeMounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_MOUNT_PATH, readOnly: true });
  }

  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: options.port },
    periodSeconds,
    timeoutSeconds: 1,
    failureThreshold,
  });
  const limits: Record<string, string> = { memory: options.memoryLimit };
  if (options.cpuLimit) limits.cpu = options.cpuLimit;

  const container: Record<string, unknown> = {
    name: SIDECAR_NAME,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    args: ['sidecar'],
    ports: [{ name: 'switchyard', containerPort: options.port, protocol: 'TCP' }],
    env: sidecarEnv(pod, options, configPath),
    resources: { requests: { cpu: options.cpuRequest, memory: options.memoryRequest }, limits },
    securityContext: {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // Up to 60 s to load the config; the app containers start only after this passes (native mode).
    startupProbe: probe('/readyz', 1, 60),
    readinessProbe: probe('/readyz', 5, 3),
    livenessProbe: probe('/healthz', 10, 3),
    volumeMounts,
  };
  // A native sidecar: an init container that keeps running (Kubernetes 1.29+).
  if (mode === 'native') container.restartPolicy = 'Always';
  return { container, volumes };
}

/** What an app container is given so stock OpenAI/Anthropic SDKs talk to the sidecar. */
export function appEnv(options: InjectorOptions): EnvVar[] {
  return [
    { name: 'OPENAI_BASE_URL', value: `http://127.0.0.1:${options.port}/v1` },
    { name: 'ANTHROPIC_BASE_URL', value: `http://127.0.0.1:${options.port}` },
  ];
}
