/**
 * `npm run repl`: a node with no services of its own that joins the running cluster
 * (TRANSPORTER must be set) and opens the Moleculer REPL: `nodes`, `services`, `actions`,
 * `call users.me`, `emit`, `metrics`…
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { ConfigError, getConfig } from "../services/shared/config";

async function main() {
  let cfg;
  try {
    cfg = getConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (!cfg.transporter) {
    console.error("npm run repl joins a cluster: set TRANSPORTER (e.g. nats://127.0.0.1:4222). For a single-process shop with a REPL use npm run dev.");
    process.exit(2);
  }
  const broker = new ServiceBroker({
    ...brokerOptions({ ...cfg, metricsPort: null }),
    nodeID: `repl-${process.pid}`,
  });
  await broker.start();
  await broker.repl();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
