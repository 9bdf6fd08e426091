/**
 * Production runner: `npm start`. With no environment at all it runs every service in one
 * process on embedded defaults (SQLite under ./data, in-process transport, cache and channels).
 * `SERVICES=api,users` runs only those; `TRANSPORTER=nats://…` joins the cluster. A node with
 * the gateway first builds the web apps when their build is missing or stale (bin/web-build.ts).
 */
import { ConfigError, getConfig } from "../services/shared/config";
import { startNode } from "../services/shared/broker";
import { ensureWebBuilt } from "./web-build";
import { blockingStdio } from "../services/shared/stdio";

async function main() {
  // the last lines of a graceful stop reach the log reader (services/shared/stdio.ts)
  blockingStdio();
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
  // the storefront and console the gateway serves: built here when missing or older than web/
  if (cfg.services === null || cfg.services.includes("api")) await ensureWebBuilt();
  await startNode(cfg);
}

main().catch((err) => {
  console.error("failed to start:", err);
  process.exit(1);
});
