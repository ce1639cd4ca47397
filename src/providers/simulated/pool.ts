// Keeps one running simulated upstream per `type: simulated` provider of the config.
import type { FileConfig } from '../../config/schema.js';
import { SimulatedSpec } from '../../config/schema.js';
import { SimulatedUpstream } from './server.js';

export class SimulatorPool {
  private readonly servers = new Map<string, SimulatedUpstream>();
  readonly urls = new Map<string, string>();

  /** Starts servers for new simulated providers, updates changed ones, stops removed ones. */
  async sync(file: FileConfig): Promise<void> {
    const wanted = new Set<string>();
    for (const [slug, p] of Object.entries(file.providers)) {
      if (p.type !== 'simulated') continue;
      wanted.add(slug);
      const spec = SimulatedSpec.parse(p.simulated ?? {});
      const existing = this.servers.get(slug);
      if (existing) {
        existing.update(spec);
        continue;
      }
      const s = new SimulatedUpstream(slug, spec);
      this.servers.set(slug, s);
      this.urls.set(slug, await s.start());
    }
    for (const [slug, s] of this.servers) {
      if (wanted.has(slug)) continue;
      await s.close();
      this.servers.delete(slug);
      this.urls.delete(slug);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
    this.servers.clear();
    this.urls.clear();
  }
}
