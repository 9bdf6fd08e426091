/**
 * A dev node over a services folder named on the command line, for the hot-reload test: the
 * watcher `npm run dev` uses, and a small HTTP endpoint, `GET /<service>`, answering what
 * `<service>.hello` returns (503 while the service is missing), so the test sees which version
 * runs. Prints `LISTENING <port>` when it is up.
 *
 *   node --import tsx test/helpers/dev-node.ts <servicesDir> <service>...
 */
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { ServiceBroker } from "moleculer";
import { watchServices } from "../../services/shared/dev-reload";

const [dir, ...names] = process.argv.slice(2);
const broker = new ServiceBroker({ nodeID: "dev-test", logger: { type: "Console", options: { level: "info", formatter: "short" } } });
for (const name of names) broker.loadService(path.join(dir, name, `${name}.service.ts`));

broker.start().then(() => {
  watchServices(broker, { servicesDir: dir, services: names, sharedDirs: [path.join(dir, "shared")], debounceMs: 100 });
  const server = http.createServer((req, res) => {
    broker.call(`${(req.url ?? "/").slice(1)}.hello`).then(
      (v) => res.end(String(v)),
      (err: Error) => {
        res.statusCode = 503;
        res.end(err.message);
      },
    );
  });
  server.listen(0, "127.0.0.1", () => console.log(`LISTENING ${(server.address() as AddressInfo).port}`));
});
