// A model name placed in an upstream URL path (Gemini, Vertex). It comes from the request body,
// so it must not be able to leave its place: each segment is percent-encoded (no "?", "#" or
// extra "/" reaches the URL) and dot segments, which URL resolution would walk up, are refused.
import { UnsupportedRequestError } from '../types.js';

/** `model` as one path segment ("a/b" becomes "a%2Fb"). */
export function modelSegment(model: string): string {
  refuseDots(model, [model]);
  return encodeURIComponent(model);
}

/** `model` as a path of segments ("publishers/x/models/y" keeps its slashes), each encoded. */
export function modelPath(model: string): string {
  const segments = model.split('/');
  refuseDots(model, segments);
  return segments.map(encodeURIComponent).join('/');
}

function refuseDots(model: string, segments: string[]): void {
  if (segments.some((s) => s === '' || s === '.' || s === '..'))
    throw new UnsupportedRequestError(`model "${model}" is not a valid model name for a URL path`);
}
