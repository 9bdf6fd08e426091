/**
 * Developer runner: `npm run dev`. Every service (or SERVICES), hot reload of changed service
 * files (services/shared/dev-reload.ts), the REPL on this terminal, and — on a node with the
 * gateway — the storefront on Vite's dev server with hot module replacement, forwarding /api to
 * this node's gateway (WEB_DEV_PORT, default 5173; `off` skips it).
 */
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { getConfig } from "../services/shared/config";
import { SERVICES_DIR, startNode } from "../services/shared/broker";
import { watchServices } from "../services/shared/dev-reload";
import { blockingStdio } from "../services/shared/stdio";
import { WEB_DIR } from "./web-build";

const ROOT = path.resolve(__dirname, "..");

async function startStorefrontDev(broker: ServiceBroker): Promise<void> {
  const cfg = getConfig();
  if (cfg.webDevPort === null) return;
  const api = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo | string | null } } | undefined;
  const addr = api?.server?.address();
  if (!addr || typeof addr !== "object") return;
  let vite: typeof import("vite");
  try {
    vite = await import("vite");
  } catch {
    return; // a production install: the gateway serves the built bundle
  }
  const target = `http://127.0.0.1:${addr.port}`;
  // Vite's dev server installs a SIGTERM (and stdin end) handler that closes it and calls
  // process.exit() at once — before the broker has stopped gracefully. The broker owns shutdown
  // here: those handlers are removed, and the dev server closes when the broker has stopped
  const sigterm = new Set(process.listeners("SIGTERM"));
  const stdinEnd = new Set(process.stdin.listeners("end"));
  const server = await vite.createServer({
    configFile: path.join(WEB_DIR, "storefront", "vite.config.ts"),
    logLevel: "warn",
    server: { port: cfg.webDevPort, strictPort: false, host: cfg.host, proxy: { "/api": { target } } },
  });
  for (const l of process.listeners("SIGTERM")) if (!sigterm.has(l)) process.off("SIGTERM", l);
  for (const l of process.stdin.listeners("end")) if (!stdinEnd.has(l)) process.stdin.off("end", l as () => void);
  if (!broker.started) return void server.close(); // stopped while Vite was starting
  broker.localBus.once("$broker.stopped", () => void server.close());
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? `http://localhost:${cfg.webDevPort}/`;
  process.stdout.write(`  storefront with hot reload: ${url} (API from ${target})\n`);
}

// the last lines of a graceful stop reach the log reader (services/shared/stdio.ts)
blockingStdio();
startNode(getConfig())
  .then(async ({ broker, services }) => {
    watchServices(broker, {
      servicesDir: SERVICES_DIR,
      services,
      sharedDirs: [path.join(SERVICES_DIR, "shared"), path.join(ROOT, "mixins"), path.join(ROOT, "models")],
    });
    if (services.includes("api")) {
      await startStorefrontDev(broker).catch((err) => console.error("storefront dev server failed to start:", err?.message ?? err));
    }
    return broker.repl();
  })
  .catch((err) => {
    console.error("failed to start:", err);
    process.exit(1);
  });
