/** Prometheus metrics of one node, read over HTTP from its METRICS_PORT (tests use port 0: any free port). */
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";

export async function nodeMetrics(broker: ServiceBroker): Promise<string> {
  const reporters = ((broker as unknown as { metrics: { reporter?: { server?: { address(): AddressInfo | null } }[] } }).metrics.reporter ?? []);
  const addr = reporters.map((r) => r.server?.address()).find((a): a is AddressInfo => !!a);
  if (!addr) throw new Error(`node ${broker.nodeID} serves no Prometheus metrics`);
  const r = await fetch(`http://127.0.0.1:${addr.port}/metrics`);
  return r.text();
}

/**
 * The value of one sample in Prometheus text, 0 when absent. `labels` must all match (others
 * may be present).
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}
