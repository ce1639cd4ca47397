// Holds the current config; reloads on file change or SIGHUP and keeps the last good one when a
// new version is bad.
import { watch, type FSWatcher } from 'node:fs';
import { loadConfigFile, type LoadedConfig } from './load.js';
import { logger } from '../logger.js';

export class ConfigHolder {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private readonly onHup = () => void this.reload('SIGHUP');
  private listeners: Array<(c: LoadedConfig) => void> = [];

  constructor(
    public current: LoadedConfig,
    private readonly path?: string,
  ) {}

  onChange(fn: (c: LoadedConfig) => void): void {
    this.listeners.push(fn);
  }

  /** Re-reads the file; on failure keeps the last good config and logs why. Returns true if swapped. */
  async reload(reason: string): Promise<boolean> {
    if (!this.path) return false;
    try {
      const next = await loadConfigFile(this.path);
      this.current = next;
      logger.info('config reloaded', { source: this.path, reason });
      for (const l of this.listeners) l(next);
      return true;
    } catch (e) {
      logger.error('config reload failed; keeping the last good config', { source: this.path, reason, error: (e as Error).message });
      return false;
    }
  }

  watch(): void {
    if (!this.path) return;
    process.on('SIGHUP', this.onHup);
    try {
      // Editors replace files (rename), so debounce and re-read whatever is there.
      this.watcher = watch(this.path, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload('file change'), 100);
      });
      this.watcher.on('error', () => {}); // a vanished file is reported on the next reload
    } catch {
      logger.warn('cannot watch config file; SIGHUP still reloads', { source: this.path });
    }
  }

  close(): void {
    process.off('SIGHUP', this.onHup);
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
