/**
 * What the suites leave behind on the shared services. Every test environment registers its
 * namespace (testEnv → `registerNamespace`) in a file that jest's globalSetup creates; after the
 * run, globalTeardown looks for JetStream streams, MariaDB databases and Redis keys of those
 * namespaces, fails the run if any is left, names them and removes them. Only this run's
 * namespaces are looked at, so a suite running elsewhere on the same services is never blamed.
 */
import fs from "node:fs";
import Redis from "ioredis";
import { QueryTypes } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";

export const NAMESPACES_FILE_ENV = "MALL_TEST_NAMESPACES_FILE";

/** Note a test namespace so the end-of-run check can look for what it left. */
export function registerNamespace(namespace: string): void {
  const file = process.env[NAMESPACES_FILE_ENV];
  if (file) fs.appendFileSync(file, `${namespace}\n`);
}

export function registeredNamespaces(): string[] {
  const file = process.env[NAMESPACES_FILE_ENV];
  if (!file || !fs.existsSync(file)) return [];
  return [...new Set(fs.readFileSync(file, "utf8").split("\n").filter(Boolean))];
}

export interface Resources {
  streams: string[];
  databases: string[];
  keys: string[];
}

export interface Services {
  mysql: string;
  redis: string;
  nats: string;
}

async function streams(nats: string, namespaces: Set<string>): Promise<string[]> {
  const { connect } = await import("nats");
  const nc = await connect({ servers: nats.replace(/^nats:\/\//, "") });
  try {
    const jsm = await nc.jetstreamManager();
    const out: string[] = [];
    for await (const si of jsm.streams.list()) if (namespaces.has(si.config.name.split("_")[0])) out.push(si.config.name);
    return out;
  } finally {
    await nc.close();
  }
}

async function databases(mysql: string, namespaces: Set<string>): Promise<string[]> {
  const url = `${mysql}/mysql`;
  const s = acquireSequelize(url);
  try {
    const rows = await s.query<{ name: string }>("SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'mall\\_%'", {
      type: QueryTypes.SELECT,
    });
    return rows.map((r) => r.name).filter((n) => namespaces.has(n.slice("mall_".length)));
  } finally {
    await releaseSequelize(url);
  }
}

async function redisKeys(redis: string, namespaces: Set<string>): Promise<string[]> {
  const r = new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    const out: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await r.scan(cursor, "MATCH", "t*", "COUNT", 1000);
      cursor = next;
      out.push(...batch.filter((k) => namespaces.has(/^[a-z0-9]+/.exec(k)?.[0] ?? "")));
    } while (cursor !== "0");
    return out;
  } finally {
    r.disconnect();
  }
}

export async function leftBehind(svc: Services, namespaces: string[]): Promise<Resources> {
  const ns = new Set(namespaces);
  if (!ns.size) return { streams: [], databases: [], keys: [] };
  const [s, d, k] = await Promise.all([streams(svc.nats, ns), databases(svc.mysql, ns), redisKeys(svc.redis, ns)]);
  return { streams: s.sort(), databases: d.sort(), keys: k.sort() };
}

/** Remove what `leftBehind` found, so one leaking run does not poison the next. */
export async function remove(svc: Services, left: Resources): Promise<void> {
  if (left.streams.length) {
    const { connect } = await import("nats");
    const nc = await connect({ servers: svc.nats.replace(/^nats:\/\//, "") });
    const jsm = await nc.jetstreamManager();
    for (const name of left.streams) await jsm.streams.delete(name).catch(() => false);
    await nc.close();
  }
  if (left.databases.length) {
    const url = `${svc.mysql}/mysql`;
    const s = acquireSequelize(url);
    for (const name of left.databases) await s.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await releaseSequelize(url);
  }
  if (left.keys.length) {
    const r = new Redis(svc.redis);
    for (let i = 0; i < left.keys.length; i += 500) await r.del(...left.keys.slice(i, i + 500));
    r.disconnect();
  }
}
