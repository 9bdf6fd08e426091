/**
 * Developer runner: `npm run dev`. Every service (or SERVICES), hot reload of changed service
 * files (services/shared/dev-reload.ts), and the REPL on this terminal.
 */
import path from "node:path";
import { getConfig } from "../services/shared/config";
import { SERVICES_DIR, startNode } from "../services/shared/broker";
import { watchServices } from "../services/shared/dev-reload";

const ROOT = path.resolve(__dirname, "..");

startNode(getConfig())
  .then(({ broker, services }) => {
    watchServices(broker, {
      servicesDir: SERVICES_DIR,
      services,
      sharedDirs: [path.join(SERVICES_DIR, "shared"), path.join(ROOT, "mixins"), path.join(ROOT, "models")],
    });
    return broker.repl();
  })
  .catch((err) => {
    console.error("failed to start:", err);
    process.exit(1);
  });
