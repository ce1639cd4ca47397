// Public surface of the collector, for `switchyard collector` and `switchyard dev`.
export { COLLECTOR_DEFAULTS, startCollector } from './server.js';
export type { CollectorOptions, RunningCollector } from './server.js';
