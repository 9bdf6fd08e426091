/**
 * Building and starting a Mall node: which services it runs, migrations on start, and the
 * startup banner naming each backend. Shared by `bin/*` runners and the test harness.
 */
import fs from "node:fs";
import path from "node:path";
import { ServiceBroker, BrokerOptions } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { MallConfig, describeBackends, serviceDatabaseUrl } from "./config";
import { migrate } from "./migrator";
import { announceReady, holdGeneratedAdmin } from "./announce";

export const SERVICES_DIR = path.resolve(__dirname, "..");

/** Every service folder that has a `<name>.service.(ts|js)` file, in load order. */
export function availableServices(): string[] {
  const ext = __filename.endsWith(".ts") ? ".ts" : ".js";
  return fs
    .readdirSync(SERVICES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(SERVICES_DIR, d.name, `${d.name}.service${ext}`)))
    .map((d) => d.name)
    .sort((a, b) => (a === "api" ? 1 : b === "api" ? -1 : a.localeCompare(b)));
}

export function serviceFile(name: string): string {
  const ext = __filename.endsWith(".ts") ? ".ts" : ".js";
  return path.join(SERVICES_DIR, name, `${name}.service${ext}`);
}

export function selectServices(cfg: MallConfig): string[] {
  const all = availableServices();
  if (!cfg.services) return all;
  const unknown = cfg.services.filter((s) => !all.includes(s));
  if (unknown.length) throw new Error(`SERVICES names unknown service(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
  return cfg.services;
}

/** Distinct database URLs the given services use on this node. */
export function databaseUrls(cfg: MallConfig, services: string[], env: Record<string, string | undefined> = process.env): string[] {
  const urls = new Set<string>();
  for (const s of services) if (s !== "api") urls.add(serviceDatabaseUrl(cfg, s, env));
  return [...urls];
}

export interface MallNode {
  broker: ServiceBroker;
  services: string[];
}

export function createNode(cfg: MallConfig, overrides: Partial<BrokerOptions> = {}): MallNode {
  const services = selectServices(cfg);
  const broker = new ServiceBroker({ ...brokerOptions(cfg), ...overrides });
  for (const s of services) broker.loadService(serviceFile(s));
  return { broker, services };
}

/**
 * Migrate (when configured), start the broker and log which backend each concern uses; a node
 * with the gateway then waits until it is ready and says where the shop is (announce.ts).
 */
export async function startNode(cfg: MallConfig, overrides: Partial<BrokerOptions> = {}): Promise<MallNode> {
  const services = selectServices(cfg);
  if (cfg.migrateOnStart) {
    for (const url of databaseUrls(cfg, services)) await migrate(url);
  }
  const node = createNode(cfg, overrides);
  const gateway = node.services.includes("api");
  const admin = holdGeneratedAdmin(node.broker, gateway && cfg.logFormat === "pretty");
  const log = node.broker.getLogger("mall");
  const backends = describeBackends(cfg);
  log.info(`Mall node ${node.broker.nodeID} running: ${node.services.join(", ")}`);
  for (const [k, v] of Object.entries(backends)) log.info(`  ${k.padEnd(17)} ${v}`);
  if (cfg.jwtSecretGenerated) log.warn("JWT_SECRET is not set: using a random secret (tokens end when the process stops)");
  const nats = cfg.natsTransport;
  if (nats && !nats.user && !nats.token) log.warn("NATS has no credentials: anything that reaches it can call every action, internal ones included (README: Securing the cluster)");
  await node.broker.start();
  if (gateway) await announceReady(node.broker, cfg, admin, node.services.includes("users"));
  return node;
}
