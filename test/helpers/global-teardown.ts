/**
 * jest globalTeardown: fail the run when a suite left streams, databases or Redis keys of its
 * test namespace behind (each suite cleans up what it creates). What is found is named, then removed.
 */
import fs from "node:fs";
import path from "node:path";
import { NAMESPACES_FILE_ENV, leftBehind, registeredNamespaces, remove } from "./leaks";
import { MYSQL, NATS, REDIS } from "./shop";

export default async function globalTeardown(): Promise<void> {
  const file = process.env[NAMESPACES_FILE_ENV];
  if (!file) throw new Error("leak check: globalSetup did not create the namespaces file");
  const svc = { mysql: MYSQL, redis: REDIS, nats: NATS };
  const left = await leftBehind(svc, registeredNamespaces());
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  const count = left.streams.length + left.databases.length + left.keys.length;
  if (!count) return;
  await remove(svc, left);
  const show = (xs: string[]) => (xs.length > 10 ? `${xs.slice(0, 10).join(", ")} … (${xs.length})` : xs.join(", ") || "none");
  throw new Error(
    `the test run left ${count} resources behind (now removed):\n  streams: ${show(left.streams)}\n  databases: ${show(left.databases)}\n  redis keys: ${show(left.keys)}`,
  );
}
