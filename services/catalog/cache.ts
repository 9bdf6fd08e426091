/**
 * Read-path caching through the broker's cacher (memory in the embedded shape, Redis shared by
 * every node in the cluster). Keys are explicit so writers can drop exactly what they changed:
 *
 *   catalog.detail:<productId>        product detail with SKUs and availability (all statuses;
 *                                     the caller's visibility is applied after the read)
 *   catalog.list:<c|s>:<params>       one list/search page, customer or staff view
 *   catalog.categories                category rows
 *   catalog.brands                    brand rows
 *
 * Writers invalidate after their transaction commits, and once more a moment later: a read that
 * loaded the old row just before the commit could otherwise store it after the first delete.
 */
import type { Cachers, Service } from "moleculer";

type Cacher = InstanceType<typeof Cachers.Base>;
type Logger = Service["logger"];

export const DETAIL_TTL = 300;
export const LIST_TTL = 60;
export const TAXONOMY_TTL = 600;
const SECOND_PASS_MS = 500;

export const keys = {
  detail: (id: number) => `catalog.detail:${id}`,
  list: (staff: boolean, params: unknown) => `catalog.list:${staff ? "s" : "c"}:${stableKey(params)}`,
  categories: "catalog.categories",
  brands: "catalog.brands",
};

/** Deterministic key for a params object (sorted keys, undefined dropped). */
export function stableKey(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "";
  if (Array.isArray(v)) return `[${v.map(stableKey).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${k}:${stableKey(o[k])}`)
    .join(",")}}`;
}

export class CatalogCache {
  private timers = new Set<NodeJS.Timeout>();
  constructor(
    private cacher: Cacher | null | undefined,
    private logger: Logger,
  ) {}

  async get<T>(key: string): Promise<T | null> {
    if (!this.cacher) return null;
    try {
      return ((await this.cacher.get(key)) as T | null) ?? null;
    } catch (err) {
      this.logger.warn(`cache read ${key} failed: ${(err as Error).message}`);
      return null;
    }
  }

  async set(key: string, value: unknown, ttl: number): Promise<void> {
    if (!this.cacher) return;
    try {
      await this.cacher.set(key, value, ttl);
    } catch (err) {
      this.logger.warn(`cache write ${key} failed: ${(err as Error).message}`);
    }
  }

  /** Read through: `load` runs on a miss; its value is stored unless `cacheable` says no. */
  async through<T>(key: string, ttl: number, load: () => Promise<T>, cacheable: (v: T) => boolean = () => true): Promise<T> {
    const hit = await this.get<T>(key);
    if (hit !== null) return hit;
    const v = await load();
    if (cacheable(v)) await this.set(key, v, ttl);
    return v;
  }

  /** Drop exact keys and glob patterns now and again shortly after. */
  async invalidate(exact: string[], patterns: string[] = []): Promise<void> {
    await this.drop(exact, patterns);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.drop(exact, patterns);
    }, SECOND_PASS_MS);
    timer.unref();
    this.timers.add(timer);
  }

  private async drop(exact: string[], patterns: string[]) {
    if (!this.cacher) return;
    try {
      if (exact.length) await this.cacher.del(exact);
      for (const p of patterns) await this.cacher.clean(p);
    } catch (err) {
      this.logger.warn(`cache invalidation failed: ${(err as Error).message}`);
    }
  }

  stop() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
