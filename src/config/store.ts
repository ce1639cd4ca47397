// Holds the current config; reloads on file change or SIGHUP and keeps the last good one when a
// new version is bad.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseConfigText, type LoadedConfig } from './load.js';
import { logger } from '../logger.js';

export class ConfigHolder {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private readonly onHup = () => void this.reload('SIGHUP');
  private listeners: Array<(c: LoadedConfig) => void> = [];
  private lastText?: string;

  constructor(
    public current: LoadedConfig,
    private readonly path?: string,
    /** Checks beyond the schema (provider fields); a throw refuses the new config. */
    private readonly validate: (c: LoadedConfig) => void = () => {},
  ) {}

  onChange(fn: (c: LoadedConfig) => void): void {
    this.listeners.push(fn);
  }

  /** Re-reads the file; on failure keeps the last good config and logs why. Returns true if swapped. */
  async reload(reason: string): Promise<boolean> {
    if (!this.path) return false;
    try {
      const text = await readFile(this.path, 'utf8');
      // The folder watch also fires for neighbours; an unchanged file is not a reload.
      if (reason === 'file change' && text === this.lastText) return false;
      this.lastText = text;
      const next = parseConfigText(text, this.path);
      this.validate(next);
      this.current = next;
      logger.info('config reloaded', { source: this.path, reason });
      for (const l of this.listeners) l(next);
      return true;
    } catch (e) {
      logger.error('config reload failed; keeping the last good config', {
        source: this.path,
        reason,
        error: (e as Error).message,
      });
      return false;
    }
  }

  watch(): void {
    if (!this.path) return;
    try {
      this.lastText ??= readFileSync(this.path, 'utf8');
    } catch {
      /* reported by the next reload */
    }
    process.on('SIGHUP', this.onHup);
    try {
      // Watch the folder, not the file: editors replace files by rename, and a Kubernetes
      // ConfigMap mount swaps a symlink and deletes the old target, which silences a file watch.
      this.watcher = watch(dirname(this.path), () => {
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
