/**
 * Test harness: starts a whole shop in one of the two shapes, against the real services on
 * localhost (MariaDB, Redis, NATS JetStream), each suite with its own database and namespace.
 * Nothing is mocked; if a service is down the suite fails at start, loudly.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { ServiceBroker } from "moleculer";
import { MallConfig, parseConfig } from "../../services/shared/config";
import { createNode } from "../../services/shared/broker";
import { dropDatabase } from "../../services/shared/db";
import { migrate } from "../../services/shared/migrator";
import { registerNamespace } from "./leaks";

export const MYSQL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
export const REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const NATS = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export const ADMIN = { username: "admin", password: "admin-pass-1234" };

export interface ShopOptions {
  shape: "embedded" | "cluster";
  /** services per node; default: one node with everything */
  nodes?: string[][];
  env?: Record<string, string>;
}

export interface Shop {
  id: string;
  shape: "embedded" | "cluster";
  url: string;
  /** every gateway's base URL (several nodes may run `api`) */
  urls: string[];
  brokers: ServiceBroker[];
  env: Record<string, string>;
  databaseUrl: string;
  config(nodeIndex?: number): MallConfig;
  /** the broker running `service` */
  brokerFor(service: string): ServiceBroker;
  stop(): Promise<void>;
}

export function testEnv(shape: "embedded" | "cluster", id: string, extra: Record<string, string> = {}): Record<string, string> {
  registerNamespace(`t${id}`);
  const base: Record<string, string> = {
    NAMESPACE: `t${id}`,
    PORT: "0",
    HOST: "127.0.0.1",
    METRICS_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "fatal",
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    SEED_DEMO: "false",
    MIGRATE_ON_START: "false",
    RATE_LIMIT_ENABLED: "false",
    LOGIN_RATE_LIMIT_MAX: "1000",
    // the cluster shape refuses weak or placeholder secrets, as production must
    JWT_SECRET: crypto.randomBytes(32).toString("hex"),
    SANDBOX_SECRET: crypto.randomBytes(32).toString("hex"),
  };
  if (shape === "embedded") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mall-${id}-`));
    Object.assign(base, { DATA_DIR: dir, DATABASE_URL: `sqlite:${path.join(dir, "mall.sqlite")}` });
  } else {
    Object.assign(base, {
      TRANSPORTER: NATS,
      DATABASE_URL: `${MYSQL}/mall_t${id}`,
      REDIS_URL: REDIS,
      CHANNELS_URL: NATS,
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `mall-${id}-`)),
      // the suites pay through the sandbox, which the cluster shape keeps off unless told
      // (payments-safety.test.ts checks that default by passing SANDBOX_ENABLED: "")
      SANDBOX_ENABLED: "true",
    });
  }
  return { ...base, ...extra };
}

function gatewayPort(broker: ServiceBroker): number | null {
  const api = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo | null } } | undefined;
  const addr = api?.server?.address();
  return addr ? addr.port : null;
}

/**
 * Delete the JetStream streams a test namespace created (channel `ns.order.paid` → stream
 * `ns_order_paid`, plus its dead-letter stream), so repeated runs do not pile streams up.
 */
export async function dropStreams(namespace: string): Promise<number> {
  const { connect } = await import("nats");
  const nc = await connect({ servers: NATS.replace(/^nats:\/\//, "") });
  let dropped = 0;
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const si of jsm.streams.list()) if (si.config.name.startsWith(`${namespace}_`)) names.push(si.config.name);
    for (const name of names) if (await jsm.streams.delete(name).catch(() => false)) dropped++;
  } finally {
    await nc.close();
  }
  return dropped;
}

/** Delete the Redis keys of a test namespace (KV store, cacher, cart, rate limits). */
export async function dropRedisKeys(namespace: string): Promise<number> {
  const { default: Redis } = await import("ioredis");
  const r = new Redis(REDIS, { maxRetriesPerRequest: 1 });
  let dropped = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${namespace}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) dropped += await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return dropped;
}

/**
 * Remove everything a test environment (testEnv) created on the shared services: its database,
 * JetStream streams, Redis keys and data directory. The run fails if a suite forgets (leaks.ts).
 */
export async function cleanupNamespace(env: Record<string, string>): Promise<void> {
  if (env.DATABASE_URL?.startsWith("mysql")) await dropDatabase(env.DATABASE_URL).catch(() => undefined);
  if (env.CHANNELS_URL) await dropStreams(env.NAMESPACE).catch(() => undefined);
  if (env.REDIS_URL) await dropRedisKeys(env.NAMESPACE).catch(() => undefined);
  if (env.DATA_DIR) fs.rmSync(env.DATA_DIR, { recursive: true, force: true });
}

/** Poll `fn` until it returns a truthy value (never a fixed sleep). */
export async function waitFor<T>(fn: () => Promise<T> | T, opts: { timeout?: number; interval?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeout ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? "condition"}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, opts.interval ?? 50));
  }
}

export async function startShop(opts: ShopOptions): Promise<Shop> {
  const id = crypto.randomBytes(4).toString("hex");
  const nodes = opts.nodes ?? [[]];
  // a gateway is ready once it serves every service of this shop (not the whole product's)
  const expected = nodes.flat().filter((s) => s && s !== "api");
  const env = testEnv(opts.shape, id, { ...(nodes.flat().length ? { EXPECTED_SERVICES: expected.join(",") || "none" } : {}), ...opts.env });
  const cfgs = nodes.map((services, i) =>
    parseConfig({ ...process.env, ...env, NODE_ID: `n${i}-${id}`, SERVICES: services.join(",") }),
  );
  await migrate(env.DATABASE_URL);
  const brokers: ServiceBroker[] = [];
  const shop: Shop = {
    id,
    shape: opts.shape,
    url: "",
    urls: [],
    brokers,
    env,
    databaseUrl: env.DATABASE_URL,
    config: (i = 0) => cfgs[i],
    brokerFor(service: string) {
      const b = brokers.find((br) => br.getLocalService(service));
      if (!b) throw new Error(`no node runs ${service}`);
      return b;
    },
    async stop() {
      for (const b of [...brokers].reverse()) await b.stop().catch(() => undefined);
      await cleanupNamespace(env);
    },
  };
  try {
    for (const cfg of cfgs) {
      const { broker } = createNode(cfg);
      brokers.push(broker);
    }
    await Promise.all(brokers.map((b) => b.start()));
    shop.urls = brokers.filter((b) => b.getLocalService("api")).map((b) => `http://127.0.0.1:${gatewayPort(b)}`);
    shop.url = shop.urls[0] ?? "";
    const gw = shop.url;
    // every node sees every other node's services (cluster discovery settled)
    const all = nodes.flat().filter(Boolean);
    for (const b of brokers) {
      await b.waitForServices(all.length ? all : [], 20_000);
    }
    // routes come from the registry a moment after discovery: every gateway must be ready, which
    // includes having the routes of every expected service
    if (gw) {
      for (const url of shop.urls) {
        await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, { what: `${url}/ready`, interval: 100 });
      }
    }
  } catch (err) {
    await shop.stop();
    throw err;
  }
  return shop;
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small HTTP client for the gateway. */
export function client(shop: { url: string }) {
  async function request<T = any>(
    method: string,
    p: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string | Buffer } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = headers["content-type"] ?? "application/json";
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const r = await fetch(`${shop.url}${p.startsWith("/") ? p : `/api/v1/${p}`}`, { method, headers, body });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, headers: r.headers, body: parsed, text };
  }
  return {
    request,
    get: <T = any>(p: string, o?: Parameters<typeof request>[2]) => request<T>("GET", p, o),
    post: <T = any>(p: string, body?: unknown, o: Parameters<typeof request>[2] = {}) => request<T>("POST", p, { ...o, body }),
    patch: <T = any>(p: string, body?: unknown, o: Parameters<typeof request>[2] = {}) => request<T>("PATCH", p, { ...o, body }),
    put: <T = any>(p: string, body?: unknown, o: Parameters<typeof request>[2] = {}) => request<T>("PUT", p, { ...o, body }),
    del: <T = any>(p: string, o?: Parameters<typeof request>[2]) => request<T>("DELETE", p, o),
  };
}

/** Register + log in a fresh customer; returns its tokens and id. */
export async function newCustomer(shop: { url: string }, prefix = "u") {
  const http = client(shop);
  const username = `${prefix}${crypto.randomBytes(4).toString("hex")}`;
  const password = "secret-pass-123";
  const reg = await http.post("auth/register", { username, password, email: `${username}@example.com` });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await http.post("auth/login", { username, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { username, password, id: reg.body.data.id as number, token: login.body.data.accessToken as string, refreshToken: login.body.data.refreshToken as string };
}

export async function loginAdmin(shop: { url: string }) {
  const r = await client(shop).post("auth/login", { username: ADMIN.username, password: ADMIN.password });
  if (r.status !== 200) throw new Error(`admin login failed: ${r.status} ${r.text}`);
  return r.body.data.accessToken as string;
}
