/**
 * Developer runner: `npm run dev`. Every service (or SERVICES), hot reload of changed service
 * files, and the REPL on this terminal.
 */
import { getConfig } from "../services/shared/config";
import { startNode } from "../services/shared/broker";

startNode(getConfig(), { hotReload: true })
  .then(({ broker }) => broker.repl())
  .catch((err) => {
    console.error("failed to start:", err);
    process.exit(1);
  });
