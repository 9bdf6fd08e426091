/**
 * Health probe for containers (the slim image has no curl). Exit 0 = healthy, 1 = not.
 *
 *   node dist/bin/probe.js http://127.0.0.1:3000/ready   a 2xx from that URL (gateway nodes)
 *   node dist/bin/probe.js node                          a node without an HTTP port: its
 *       Prometheus endpoint (METRICS_PORT) says the broker has started and, in the cluster shape,
 *       that the transporter is connected. Liveness can use the endpoint itself (GET /metrics).
 */
import { getConfig } from "../services/shared/config";

const TIMEOUT_MS = 3000;

/** Value of an unlabelled-or-labelled Prometheus sample, e.g. `moleculer_broker_started{…} 1`. */
export function sample(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
  return m ? Number(m[1]) : null;
}

/** Why the node is not ready, or null when it is. */
export function nodeProblem(metrics: string, clustered: boolean): string | null {
  if (sample(metrics, "moleculer_broker_started") !== 1) return "broker not started";
  if (clustered && sample(metrics, "moleculer_transit_connected") !== 1) return "transporter not connected";
  return null;
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: r.status, text: await r.text() };
}

async function main(arg: string | undefined): Promise<string | null> {
  if (arg && /^https?:\/\//.test(arg)) {
    const r = await get(arg);
    return r.status >= 200 && r.status < 300 ? null : `${arg} answered ${r.status}: ${r.text.slice(0, 300)}`;
  }
  if (arg === "node") {
    const cfg = getConfig();
    if (cfg.metricsPort === null) return "METRICS_PORT is off: the node probe reads the Prometheus endpoint";
    const r = await get(`http://127.0.0.1:${cfg.metricsPort}/metrics`);
    if (r.status !== 200) return `metrics endpoint answered ${r.status}`;
    return nodeProblem(r.text, cfg.transporter !== null);
  }
  return "usage: probe <http://host:port/path> | probe node";
}

if (require.main === module) {
  main(process.argv[2])
    .then((problem) => {
      if (problem) {
        console.error(`unhealthy: ${problem}`);
        process.exit(1);
      }
      process.exit(0);
    })
    .catch((err: Error) => {
      console.error(`unhealthy: ${err.message}`);
      process.exit(1);
    });
}
