/**
 * Admission for the catalog's uncached list and search queries: at most `limit` run against the
 * database at once per catalog node, the others wait their turn in arrival order.
 *
 * Why: an uncached keyword search costs the database a few milliseconds of CPU (bench/RESULTS.md
 * "Catalog (MySQL/MariaDB)"), and the costly ones (common keywords in relevance or sales order)
 * several times the cheap ones. Started all at once, ten searches share the database's cores and
 * each is slowed by all the others — the costly ones longest. Queued in order, each waits for the
 * ones ahead and then runs with fewer beside it: about the same throughput, and a far shorter tail
 * (bench:catalog's uncached queries on MariaDB, 10 clients, gate off and on alternating three
 * times: p95 146 → 80 ms, p99 253 → 111 ms, medians; bench/RESULTS.md). Elasticsearch bounds its
 * search thread pool the same way; the default size is its formula (config.ts searchConcurrency).
 * Cached answers never wait: the gate is inside the cache's loader.
 *
 * p-limit (sindresorhus, the usual promise-concurrency limiter; v3 is the CommonJS line) is the
 * queue; the gauges `mall_catalog_searches_active` and `_queued` show it to operators.
 */
import pLimit from "p-limit";
import type { ServiceBroker } from "moleculer";

export const SEARCHES_ACTIVE = "mall.catalog.searches.active";
export const SEARCHES_QUEUED = "mall.catalog.searches.queued";

export type SearchGate = <T>(fn: () => Promise<T>) => Promise<T>;

export function searchGate(limit: number, broker?: ServiceBroker): SearchGate {
  const limiter = pLimit(limit);
  const metrics = broker?.isMetricsEnabled() ? broker.metrics : null;
  if (metrics) {
    for (const [name, description] of [
      [SEARCHES_ACTIVE, "Uncached catalog searches and listings running against the database on this node"],
      [SEARCHES_QUEUED, "Uncached catalog searches and listings waiting for their turn (SEARCH_CONCURRENCY)"],
    ])
      if (!metrics.getMetric(name)) metrics.register({ type: "gauge", name, description });
  }
  // counted here rather than read from p-limit, whose counts change after our code has run
  let active = 0;
  let queued = 0;
  const report = () => {
    metrics?.set(SEARCHES_ACTIVE, active);
    metrics?.set(SEARCHES_QUEUED, queued);
  };
  return <T>(fn: () => Promise<T>) => {
    queued++;
    report();
    return limiter(async () => {
      queued--;
      active++;
      report();
      try {
        return await fn();
      } finally {
        active--;
        report();
      }
    });
  };
}
