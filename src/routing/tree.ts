// Settings inherited down the target tree: a child's own value wins over its parent's.
import type { RetrySpec, TargetSpec } from '../config/schema.js';

export interface Inherited {
  retry?: RetrySpec;
  request_timeout?: number;
  first_chunk_timeout?: number;
  idle_timeout?: number;
  override_params: Record<string, unknown>;
}

export const ROOT: Inherited = { override_params: {} };

export function inherit(parent: Inherited, node: TargetSpec): Inherited {
  return {
    retry: node.retry ?? parent.retry,
    request_timeout: node.request_timeout ?? parent.request_timeout,
    first_chunk_timeout: node.first_chunk_timeout ?? parent.first_chunk_timeout,
    idle_timeout: node.idle_timeout ?? parent.idle_timeout,
    override_params: node.override_params
      ? { ...parent.override_params, ...node.override_params }
      : parent.override_params,
  };
}

export function isLeaf(node: TargetSpec): boolean {
  return !node.targets || node.targets.length === 0;
}

/** The model a leaf will call: its override wins over the request's. */
export function leafModel(settings: Inherited, requestModel: unknown): string {
  const m = settings.override_params.model ?? requestModel;
  return typeof m === 'string' ? m : '';
}

/** Breakers are per provider and model: a slow gpt-4o is slow for every config that uses it. */
export function healthKey(node: TargetSpec, settings: Inherited, requestModel: unknown): string {
  return `${node.provider ?? node.virtual_key ?? '?'}|${node.custom_host ?? ''}|${leafModel(settings, requestModel)}`;
}
