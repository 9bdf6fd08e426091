/**
 * Twelve-factor configuration: every setting comes from the environment, and a missing value
 * falls back to the embedded default. `parseConfig` is pure so it can be unit tested.
 */
import crypto from "node:crypto";
import path from "node:path";

export type Shape = "embedded" | "cluster";

export interface RateLimitConfig {
  enabled: boolean;
  /** requests per window per client on the whole API */
  limit: number;
  windowMs: number;
  /** login attempts per window, per account and per client */
  loginLimit: number;
  loginWindowMs: number;
}

export interface MallConfig {
  shape: Shape;
  nodeID?: string;
  namespace: string;
  transporter: string | null;
  databaseUrl: string;
  redisUrl: string | null;
  channelsUrl: string | null;
  jwtSecret: string;
  jwtSecretGenerated: boolean;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  port: number;
  host: string;
  services: string[] | null;
  logLevel: string;
  logFormat: "json" | "pretty";
  metricsPort: number | null;
  tracingExporter: "console" | "zipkin" | null;
  zipkinUrl: string;
  migrateOnStart: boolean;
  seedDemo: boolean;
  adminUsername: string | null;
  adminPassword: string | null;
  sandboxSecret: string;
  orderPaymentTimeoutSec: number;
  /** how often each orders node looks for expired unpaid orders (ORDER_SWEEP_INTERVAL_MS) */
  orderSweepIntervalMs: number;
  seckillPaymentTimeoutSec: number;
  /** an OPEN reservation whose order does not exist this long after it was made is released */
  reservationOrphanGraceMs: number;
  /** how often each inventory node looks for such orphans */
  reservationReconcileIntervalMs: number;
  requestTimeoutMs: number;
  rateLimit: RateLimitConfig;
  corsOrigins: string[] | "*";
  trustProxy: boolean;
  dataDir: string;
  uploadDir: string;
  publicBaseUrl: string | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string): string | null {
  const v = env[key];
  return v === undefined || v.trim() === "" ? null : v.trim();
}

function int(env: Env, key: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = str(env, key);
  if (v === null) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`${key} must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < min) throw new ConfigError(`${key} must be >= ${min}, got ${n}`);
  if (n > max) throw new ConfigError(`${key} must be <= ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const v = str(env, key);
  if (v === null) return def;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${key} must be true or false, got "${v}"`);
}

function url(env: Env, key: string, schemes: string[]): string | null {
  const v = str(env, key);
  if (v === null) return null;
  const scheme = v.split(":")[0].toLowerCase();
  if (!schemes.includes(scheme)) {
    throw new ConfigError(`${key} must start with one of ${schemes.map((s) => s + ":").join(", ")}, got "${v}"`);
  }
  return v;
}

export function parseConfig(env: Env = process.env): MallConfig {
  const transporter = url(env, "TRANSPORTER", ["nats", "redis", "tcp"]);
  const shape: Shape = transporter ? "cluster" : "embedded";
  const dataDir = path.resolve(str(env, "DATA_DIR") ?? "./data");
  const databaseUrl =
    url(env, "DATABASE_URL", ["mysql", "mariadb", "sqlite"]) ?? `sqlite:${path.join(dataDir, "mall.sqlite")}`;

  let jwtSecret = str(env, "JWT_SECRET");
  let jwtSecretGenerated = false;
  if (!jwtSecret) {
    if (shape === "cluster") {
      throw new ConfigError("JWT_SECRET is required when TRANSPORTER is set (cluster shape); every node must share it");
    }
    jwtSecret = crypto.randomBytes(32).toString("hex");
    jwtSecretGenerated = true;
  } else if (jwtSecret.length < 16) {
    throw new ConfigError("JWT_SECRET must be at least 16 characters");
  }

  let sandboxSecret = str(env, "SANDBOX_SECRET");
  if (!sandboxSecret) {
    if (shape === "cluster") throw new ConfigError("SANDBOX_SECRET is required in cluster shape");
    sandboxSecret = crypto.randomBytes(32).toString("hex");
  }

  const services = str(env, "SERVICES");
  const tracing = str(env, "TRACING_EXPORTER");
  if (tracing && !/^(console|zipkin|none)$/i.test(tracing)) {
    throw new ConfigError(`TRACING_EXPORTER must be console, zipkin or none, got "${tracing}"`);
  }
  const metricsPortRaw = str(env, "METRICS_PORT");
  const logFormat = str(env, "LOG_FORMAT");
  const cors = str(env, "CORS_ORIGINS");

  return {
    shape,
    nodeID: str(env, "NODE_ID") ?? undefined,
    namespace: str(env, "NAMESPACE") ?? "mall",
    transporter,
    databaseUrl,
    redisUrl: url(env, "REDIS_URL", ["redis", "rediss"]),
    channelsUrl: url(env, "CHANNELS_URL", ["nats", "redis", "rediss"]),
    jwtSecret,
    jwtSecretGenerated,
    accessTokenTtlSec: int(env, "ACCESS_TOKEN_TTL", 900, 10),
    refreshTokenTtlSec: int(env, "REFRESH_TOKEN_TTL", 30 * 24 * 3600, 60),
    port: int(env, "PORT", 3000, 0, 65535),
    host: str(env, "HOST") ?? "0.0.0.0",
    services: services
      ? services
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    logLevel: (str(env, "LOG_LEVEL") ?? "info").toLowerCase(),
    logFormat: logFormat === "pretty" ? "pretty" : logFormat === "json" ? "json" : shape === "cluster" ? "json" : "pretty",
    metricsPort: metricsPortRaw === "off" ? null : int(env, "METRICS_PORT", 3030, 0, 65535),
    tracingExporter: !tracing || tracing.toLowerCase() === "none" ? null : (tracing.toLowerCase() as "console" | "zipkin"),
    zipkinUrl: str(env, "ZIPKIN_URL") ?? "http://127.0.0.1:9411",
    migrateOnStart: bool(env, "MIGRATE_ON_START", shape === "embedded"),
    seedDemo: bool(env, "SEED_DEMO", shape === "embedded"),
    adminUsername: str(env, "ADMIN_USERNAME"),
    adminPassword: str(env, "ADMIN_PASSWORD"),
    sandboxSecret,
    orderPaymentTimeoutSec: int(env, "ORDER_PAYMENT_TIMEOUT", 900, 1),
    orderSweepIntervalMs: int(env, "ORDER_SWEEP_INTERVAL_MS", 5000, 100),
    seckillPaymentTimeoutSec: int(env, "SECKILL_PAYMENT_TIMEOUT", 300, 1),
    reservationOrphanGraceMs: int(env, "RESERVATION_ORPHAN_GRACE_MS", 600_000, 1000),
    reservationReconcileIntervalMs: int(env, "RESERVATION_RECONCILE_INTERVAL_MS", 60_000, 100),
    requestTimeoutMs: int(env, "REQUEST_TIMEOUT", 10_000),
    rateLimit: {
      enabled: bool(env, "RATE_LIMIT_ENABLED", true),
      limit: int(env, "RATE_LIMIT_MAX", 600, 1),
      windowMs: int(env, "RATE_LIMIT_WINDOW_MS", 60_000, 100),
      loginLimit: int(env, "LOGIN_RATE_LIMIT_MAX", 10, 1),
      loginWindowMs: int(env, "LOGIN_RATE_LIMIT_WINDOW_MS", 15 * 60_000, 100),
    },
    corsOrigins: !cors || cors === "*" ? "*" : cors.split(",").map((s) => s.trim()),
    trustProxy: bool(env, "TRUST_PROXY", false),
    dataDir,
    uploadDir: path.resolve(str(env, "UPLOAD_DIR") ?? path.join(dataDir, "uploads")),
    publicBaseUrl: str(env, "PUBLIC_BASE_URL"),
  };
}

/** Database URL for one service: `<SERVICE>_DATABASE_URL` overrides `DATABASE_URL`. */
export function serviceDatabaseUrl(cfg: MallConfig, service: string, env: Env = process.env): string {
  const key = `${service.toUpperCase()}_DATABASE_URL`;
  return url(env, key, ["mysql", "mariadb", "sqlite"]) ?? cfg.databaseUrl;
}

let cached: MallConfig | null = null;
/** The process-wide configuration, parsed once (tests give each node its own via configOf). */
export function getConfig(): MallConfig {
  if (!cached) cached = parseConfig(process.env);
  return cached;
}

/** A one-line description of which backend each concern uses, logged at start. */
export function describeBackends(cfg: MallConfig): Record<string, string> {
  const redact = (u: string) => u.replace(/\/\/([^:@/]*):([^@/]+)@/, "//$1:***@");
  return {
    shape: cfg.shape,
    transport: cfg.transporter ? redact(cfg.transporter) : "none (in-process, single node)",
    database: redact(cfg.databaseUrl),
    cache: cfg.redisUrl ? `redis (${redact(cfg.redisUrl)})` : "memory",
    "rate-limit store": cfg.redisUrl ? "redis" : "memory",
    channels: cfg.channelsUrl
      ? cfg.channelsUrl.startsWith("nats")
        ? `NATS JetStream (${redact(cfg.channelsUrl)})`
        : `Redis streams (${redact(cfg.channelsUrl)})`
      : "in-process (Fake adapter, fed by the outbox)",
    tracing: cfg.tracingExporter ?? "off",
    metrics: cfg.metricsPort === null ? "off" : `prometheus on :${cfg.metricsPort} and /metrics`,
  };
}

/**
 * The configuration a service should use: the one its broker was built with (so tests can run
 * differently configured nodes in one process), else the process-wide one.
 */
export function configOf(svc: { broker: { options: unknown } }): MallConfig {
  return ((svc.broker.options as { mall?: MallConfig }).mall ?? getConfig()) as MallConfig;
}
