/**
 * Twelve-factor configuration: every setting comes from the environment, and a missing value
 * falls back to the embedded default. `parseConfig` is pure so it can be unit tested.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
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

/**
 * How to reach NATS, in the nats.js client's terms (it takes `host:port` servers and the
 * credentials as options; moleculer and @moleculer/channels drop a URL's scheme and a token).
 */
export interface NatsOptions {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** present = TLS is required (a `tls://` URL or a NATS_TLS_* file); the files are paths */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface SeckillConfig {
  /** a stream entry a relay left unacknowledged this long is claimed by another (SECKILL_RELAY_CLAIM_IDLE_MS) */
  relayClaimIdleMs: number;
  /** how often each seckill node runs the reconciler and the sale-end sweep (SECKILL_RECONCILE_INTERVAL_MS) */
  reconcileIntervalMs: number;
  /** per-user token bucket on the purchase route: size (SECKILL_RATE_BURST) and refill per second (SECKILL_RATE_PER_SEC) */
  rateBurst: number;
  ratePerSec: number;
}

export interface MallConfig {
  shape: Shape;
  nodeID?: string;
  namespace: string;
  transporter: string | null;
  /** TRANSPORTER as NATS connection options, when it is a NATS URL */
  natsTransport: NatsOptions | null;
  databaseUrl: string;
  redisUrl: string | null;
  channelsUrl: string | null;
  /** CHANNELS_URL as NATS connection options, when it is a NATS URL (JetStream) */
  natsChannels: NatsOptions | null;
  jwtSecret: string;
  jwtSecretGenerated: boolean;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  /** seconds a just-rotated refresh token still returns the current pair (REFRESH_REUSE_GRACE_SEC) */
  refreshReuseGraceSec: number;
  /** how long a gateway trusts its copy of a user's session epoch (SESSION_EPOCH_CACHE_MS) */
  sessionEpochCacheMs: number;
  port: number;
  host: string;
  services: string[] | null;
  /** services a gateway waits for before it is ready (EXPECTED_SERVICES); null: see api.service */
  expectedServices: string[] | null;
  logLevel: string;
  logFormat: "json" | "pretty";
  metricsPort: number | null;
  tracingExporter: "console" | "zipkin" | null;
  zipkinUrl: string;
  migrateOnStart: boolean;
  seedDemo: boolean;
  /**
   * keyword searches and listings a catalog node runs against the database at once; the rest
   * wait their turn in order (SEARCH_CONCURRENCY; default 1.5 × the node's cores + 1, the size
   * Elasticsearch gives its search thread pool)
   */
  searchConcurrency: number;
  adminUsername: string | null;
  adminPassword: string | null;
  sandboxSecret: string;
  /**
   * the sandbox channel lets any buyer mark their own order paid from its pay page: on by
   * default only in the embedded shape (SANDBOX_ENABLED)
   */
  sandboxEnabled: boolean;
  orderPaymentTimeoutSec: number;
  /** how often each orders node looks for expired unpaid orders (ORDER_SWEEP_INTERVAL_MS) */
  orderSweepIntervalMs: number;
  seckillPaymentTimeoutSec: number;
  seckill: SeckillConfig;
  /** IANA time zone the shop's days are counted in (analytics default; SHOP_TIMEZONE) */
  shopTimezone: string;
  /** seconds an analytics answer is reused (STATS_CACHE_TTL; 0 = never cached) */
  statsCacheTtlSec: number;
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
  /** built web apps (`<dir>/storefront` at `/`, `<dir>/admin` at `/admin`), WEB_DIST_DIR */
  webDistDir: string;
  /** `npm run dev`: port of the storefront's Vite dev server (WEB_DEV_PORT; null = off) */
  webDevPort: number | null;
  publicBaseUrl: string | null;
  db: DbSettings;
  messages: MessagesConfig;
}

/** Email, SMS and the delivery machinery of services/messages. */
export interface MessagesConfig {
  /** smtp(s)://user:pass@host:port; null: emails are rendered and kept in the delivery log only */
  smtpUrl: string | null;
  mailFrom: string;
  /** which SMS provider sends (SMS_PROVIDER): the sandbox records, the webhook POSTs to SMS_WEBHOOK_URL */
  smsProvider: "sandbox" | "webhook";
  smsWebhookUrl: string | null;
  smsWebhookSecret: string | null;
  /** SMS per number per window (SMS_RATE_LIMIT / SMS_RATE_WINDOW_MS); more wait for the next window */
  smsRateLimit: number;
  smsRateWindowMs: number;
  /** attempts of one email/SMS before it is FAILED; the n-th retry waits base × 2^(n−1), ≤ 1 h */
  maxAttempts: number;
  retryBaseMs: number;
  /** how often each node looks for deliveries due (new, to retry, or abandoned by a dead node) */
  sweepIntervalMs: number;
  /** users per chunk of a batch send */
  batchChunk: number;
  /** coupons expiring within this many hours get a reminder; the sweep runs every interval */
  couponNoticeHours: number;
  couponSweepIntervalMs: number;
}

const SMS_PROVIDERS = ["sandbox", "webhook"] as const;

function messagesConfig(env: Env, shape: Shape): MessagesConfig {
  const smsProvider = (str(env, "SMS_PROVIDER") ?? "sandbox").toLowerCase();
  if (!(SMS_PROVIDERS as readonly string[]).includes(smsProvider)) {
    throw new ConfigError(`SMS_PROVIDER must be one of ${SMS_PROVIDERS.join(", ")}, got "${smsProvider}"`);
  }
  const smsWebhookUrl = url(env, "SMS_WEBHOOK_URL", ["http", "https"]);
  const smsWebhookSecret = str(env, "SMS_WEBHOOK_SECRET");
  if (smsProvider === "webhook" && !smsWebhookUrl) throw new ConfigError("SMS_PROVIDER=webhook needs SMS_WEBHOOK_URL");
  if (smsProvider === "webhook" && shape === "cluster") {
    if (!smsWebhookSecret) throw new ConfigError("SMS_PROVIDER=webhook needs SMS_WEBHOOK_SECRET in the cluster shape (the provider checks the signature)");
    clusterSecret("SMS_WEBHOOK_SECRET", smsWebhookSecret);
  }
  return {
    smtpUrl: url(env, "SMTP_URL", ["smtp", "smtps"]),
    mailFrom: str(env, "MAIL_FROM") ?? "Mall <no-reply@mall.local>",
    smsProvider: smsProvider as MessagesConfig["smsProvider"],
    smsWebhookUrl,
    smsWebhookSecret,
    smsRateLimit: int(env, "SMS_RATE_LIMIT", 5, 1),
    smsRateWindowMs: int(env, "SMS_RATE_WINDOW_MS", 3_600_000, 1000),
    maxAttempts: int(env, "MESSAGES_MAX_ATTEMPTS", 5, 1, 50),
    retryBaseMs: int(env, "MESSAGES_RETRY_BASE_MS", 30_000, 10),
    sweepIntervalMs: int(env, "MESSAGES_SWEEP_INTERVAL_MS", 5000, 50),
    batchChunk: int(env, "MESSAGES_BATCH_CHUNK", 500, 1, 5000),
    couponNoticeHours: int(env, "COUPON_EXPIRY_NOTICE_HOURS", 24, 1, 24 * 30),
    couponSweepIntervalMs: int(env, "COUPON_EXPIRY_SWEEP_INTERVAL_MS", 86_400_000, 1000),
  };
}

/** Per process, not per broker: the Sequelize instances (and their pools) are shared per URL. */
export interface DbSettings {
  poolMax: number;
  sqlLog: boolean;
  /** SQLite's `PRAGMA synchronous` under WAL: NORMAL (no fsync per commit) or FULL */
  sqliteSynchronous: "NORMAL" | "FULL";
  /** SQLite transactions on Node's synchronous driver (node:sqlite) instead of sqlite3's thread pool */
  sqliteSyncTransactions: boolean;
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

/**
 * Stand-ins that must never sign anything: our own examples (.env.example, k8s/secret.yaml,
 * the README) and the usual ones.
 */
const PLACEHOLDER = /replace[-_ ]?me|change[-_ ]?me|placeholder|example/i;

/** Share of neighbouring characters that repeat or step by one ("aaaa", "abcd", "4321"). */
function stepRatio(v: string): number {
  let steps = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v.charCodeAt(i) - v.charCodeAt(i - 1)) <= 1) steps++;
  return steps / (v.length - 1);
}

function isPeriodic(v: string): boolean {
  for (let p = 1; p <= v.length / 2; p++) if (v === v.slice(0, p).repeat(Math.ceil(v.length / p)).slice(0, v.length)) return true;
  return false;
}

/**
 * Why `value` cannot be a cluster-wide secret, or null if it can. Anyone who knows JWT_SECRET
 * mints admin tokens and anyone who knows SANDBOX_SECRET marks orders paid, so a published or
 * guessable value is refused. The shape checks only reject what no random generator produces
 * (a 32-character hex string from `openssl rand -hex 16` fails them about once in 10^7 draws).
 */
export function secretWeakness(value: string): string | null {
  if (PLACEHOLDER.test(value)) return "is a placeholder";
  if (value.length < 32) return "is shorter than 32 characters";
  if (new Set(value).size < 8) return "has fewer than 8 different characters";
  if (isPeriodic(value)) return "repeats a shorter pattern";
  if (stepRatio(value) > 0.6) return "is mostly runs or sequences";
  return null;
}

function clusterSecret(key: string, value: string): void {
  const why = secretWeakness(value);
  if (why) throw new ConfigError(`${key} ${why}: in the cluster shape it must be at least 32 random characters, e.g. \`openssl rand -hex 32\``);
}

/**
 * A NATS URL list (`nats://host:4222`, `tls://host:4222`, comma-separated for several servers)
 * as client options. Credentials come from the URL (`nats://user:pass@…`, `nats://token@…`) or
 * from NATS_USER/NATS_PASSWORD or NATS_TOKEN, so TRANSPORTER and CHANNELS_URL can stay free of
 * secrets (a ConfigMap) while the password lives in a Secret. TLS: a `tls://` URL or NATS_TLS_*.
 */
function natsOptions(env: Env, key: string, value: string, cluster: boolean): NatsOptions {
  const servers: string[] = [];
  const inUrl = new Set<string>();
  let tls = false;
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw new ConfigError(`${key} has a malformed NATS URL`);
    }
    if (!/^(nats|tls):$/.test(u.protocol)) throw new ConfigError(`${key}: every server of a NATS list must be nats:// or tls://`);
    if (!u.hostname) throw new ConfigError(`${key}: a NATS URL needs a host`);
    servers.push(`${u.hostname}:${u.port || "4222"}`);
    tls ||= u.protocol === "tls:";
    if (u.username) {
      inUrl.add(`${u.username}:${u.password}`);
      if (u.password) [user, pass] = [decodeURIComponent(u.username), decodeURIComponent(u.password)];
      else token = decodeURIComponent(u.username);
    }
  }
  if (inUrl.size > 1) throw new ConfigError(`${key}: the servers of one NATS list must carry the same credentials`);
  const envUser = str(env, "NATS_USER");
  const envPass = str(env, "NATS_PASSWORD");
  const envToken = str(env, "NATS_TOKEN");
  if (inUrl.size && (envUser || envPass || envToken)) {
    throw new ConfigError(`${key} carries NATS credentials and NATS_USER/NATS_PASSWORD/NATS_TOKEN are set too: use one or the other`);
  }
  if (!inUrl.size) {
    if (envToken && (envUser || envPass)) throw new ConfigError("NATS_TOKEN and NATS_USER/NATS_PASSWORD exclude each other");
    if (!!envUser !== !!envPass) throw new ConfigError("NATS_USER and NATS_PASSWORD go together");
    [user, pass, token] = [envUser ?? undefined, envPass ?? undefined, envToken ?? undefined];
  }
  if (cluster) {
    for (const [what, v] of [["NATS password", pass], ["NATS token", token]] as const) {
      if (v && PLACEHOLDER.test(v)) throw new ConfigError(`the ${what} is a placeholder: set a real one`);
    }
  }
  const caFile = str(env, "NATS_TLS_CA") ?? undefined;
  const certFile = str(env, "NATS_TLS_CERT") ?? undefined;
  const keyFile = str(env, "NATS_TLS_KEY") ?? undefined;
  if (!!certFile !== !!keyFile) throw new ConfigError("NATS_TLS_CERT and NATS_TLS_KEY go together (client certificate and its key)");
  const opts: NatsOptions = { servers };
  if (user) Object.assign(opts, { user, pass });
  if (token) opts.token = token;
  if (tls || caFile || certFile) {
    opts.tls = {};
    if (caFile) opts.tls.caFile = caFile;
    if (certFile) Object.assign(opts.tls, { certFile, keyFile });
  }
  return opts;
}

function timeZone(key: string, v: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: v });
  } catch {
    throw new ConfigError(`${key} must be an IANA time zone such as Asia/Shanghai or UTC, got "${v}"`);
  }
  return v;
}

const isNats = (u: string | null): u is string => !!u && /^(nats|tls):/i.test(u);

/** Pool size and SQL logging, read from the environment (parseConfig checks them at start). */
export function dbSettings(env: Env = process.env): DbSettings {
  const sync = (str(env, "SQLITE_SYNCHRONOUS") ?? "NORMAL").toUpperCase();
  if (sync !== "NORMAL" && sync !== "FULL") throw new ConfigError(`SQLITE_SYNCHRONOUS must be NORMAL or FULL, got "${sync}"`);
  return {
    poolMax: int(env, "DB_POOL_MAX", 20, 1, 1000),
    sqlLog: bool(env, "SQL_LOG", false),
    sqliteSynchronous: sync,
    sqliteSyncTransactions: bool(env, "SQLITE_SYNC_TRANSACTIONS", true),
  };
}
const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function parseConfig(env: Env = process.env): MallConfig {
  const transporter = url(env, "TRANSPORTER", ["nats", "tls", "redis", "tcp"]);
  const shape: Shape = transporter ? "cluster" : "embedded";
  const channelsUrl = url(env, "CHANNELS_URL", ["nats", "tls", "redis", "rediss"]);
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
  } else if (shape === "cluster") {
    clusterSecret("JWT_SECRET", jwtSecret);
  } else if (jwtSecret.length < 16) {
    throw new ConfigError("JWT_SECRET must be at least 16 characters");
  }

  let sandboxSecret = str(env, "SANDBOX_SECRET");
  if (!sandboxSecret) {
    if (shape === "cluster") throw new ConfigError("SANDBOX_SECRET is required in cluster shape");
    sandboxSecret = crypto.randomBytes(32).toString("hex");
  } else if (shape === "cluster") {
    clusterSecret("SANDBOX_SECRET", sandboxSecret);
  }

  const services = str(env, "SERVICES");
  const expected = str(env, "EXPECTED_SERVICES");
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
    natsTransport: isNats(transporter) ? natsOptions(env, "TRANSPORTER", transporter, shape === "cluster") : null,
    databaseUrl,
    redisUrl: url(env, "REDIS_URL", ["redis", "rediss"]),
    channelsUrl,
    natsChannels: isNats(channelsUrl) ? natsOptions(env, "CHANNELS_URL", channelsUrl, shape === "cluster") : null,
    jwtSecret,
    jwtSecretGenerated,
    accessTokenTtlSec: int(env, "ACCESS_TOKEN_TTL", 900, 10),
    refreshTokenTtlSec: int(env, "REFRESH_TOKEN_TTL", 30 * 24 * 3600, 60),
    refreshReuseGraceSec: int(env, "REFRESH_REUSE_GRACE_SEC", 10, 0, 60),
    sessionEpochCacheMs: int(env, "SESSION_EPOCH_CACHE_MS", 2000, 0, 30_000),
    port: int(env, "PORT", 3000, 0, 65535),
    host: str(env, "HOST") ?? "0.0.0.0",
    services: services ? list(services) : null,
    expectedServices: expected === "none" ? [] : expected ? list(expected) : null,
    logLevel: (str(env, "LOG_LEVEL") ?? "info").toLowerCase(),
    logFormat: logFormat === "pretty" ? "pretty" : logFormat === "json" ? "json" : shape === "cluster" ? "json" : "pretty",
    metricsPort: metricsPortRaw === "off" ? null : int(env, "METRICS_PORT", 3030, 0, 65535),
    tracingExporter: !tracing || tracing.toLowerCase() === "none" ? null : (tracing.toLowerCase() as "console" | "zipkin"),
    zipkinUrl: str(env, "ZIPKIN_URL") ?? "http://127.0.0.1:9411",
    migrateOnStart: bool(env, "MIGRATE_ON_START", shape === "embedded"),
    seedDemo: bool(env, "SEED_DEMO", shape === "embedded"),
    searchConcurrency: int(env, "SEARCH_CONCURRENCY", Math.floor(os.availableParallelism() * 1.5) + 1, 1, 1000),
    adminUsername: str(env, "ADMIN_USERNAME"),
    adminPassword: str(env, "ADMIN_PASSWORD"),
    sandboxSecret,
    sandboxEnabled: bool(env, "SANDBOX_ENABLED", shape === "embedded"),
    orderPaymentTimeoutSec: int(env, "ORDER_PAYMENT_TIMEOUT", 900, 1),
    orderSweepIntervalMs: int(env, "ORDER_SWEEP_INTERVAL_MS", 5000, 100),
    seckillPaymentTimeoutSec: int(env, "SECKILL_PAYMENT_TIMEOUT", 300, 1),
    seckill: {
      relayClaimIdleMs: int(env, "SECKILL_RELAY_CLAIM_IDLE_MS", 10_000, 100),
      reconcileIntervalMs: int(env, "SECKILL_RECONCILE_INTERVAL_MS", 2000, 100),
      rateBurst: int(env, "SECKILL_RATE_BURST", 5, 1),
      ratePerSec: int(env, "SECKILL_RATE_PER_SEC", 2, 1),
    },
    statsCacheTtlSec: int(env, "STATS_CACHE_TTL", 30, 0, 3600),
    shopTimezone: timeZone("SHOP_TIMEZONE", str(env, "SHOP_TIMEZONE") ?? "Asia/Shanghai"),
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
    webDistDir: path.resolve(str(env, "WEB_DIST_DIR") ?? defaultWebDist()),
    webDevPort: str(env, "WEB_DEV_PORT")?.toLowerCase() === "off" ? null : int(env, "WEB_DEV_PORT", 5173, 0, 65535),
    publicBaseUrl: str(env, "PUBLIC_BASE_URL"),
    db: dbSettings(env),
    messages: messagesConfig(env, shape),
  };
}

/** Database URL for one service: `<SERVICE>_DATABASE_URL` overrides `DATABASE_URL`. */
export function serviceDatabaseUrl(cfg: MallConfig, service: string, env: Env = process.env): string {
  const key = `${service.toUpperCase()}_DATABASE_URL`;
  return url(env, key, ["mysql", "mariadb", "sqlite"]) ?? cfg.databaseUrl;
}

/** `web/dist` of the checkout this code runs from (from services/shared or dist/services/shared). */
function defaultWebDist(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "web")) && fs.existsSync(path.join(dir, "package.json"))) return path.join(dir, "web", "dist");
  }
  return path.resolve("web/dist");
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
  // built from the options, not the URL: a NATS token is the part before the @ and must not show
  const nats = (o: NatsOptions) => {
    const auth = o.user ? `user ${o.user}` : o.token ? "token" : "no auth";
    return `${o.tls ? "tls" : "nats"}://${o.servers.join(",")}, ${auth}${o.tls ? ", TLS" : ""}`;
  };
  return {
    shape: cfg.shape,
    transport: cfg.natsTransport ? `NATS (${nats(cfg.natsTransport)})` : cfg.transporter ? redact(cfg.transporter) : "none (in-process, single node)",
    database: redact(cfg.databaseUrl),
    cache: cfg.redisUrl ? `redis (${redact(cfg.redisUrl)})` : "memory",
    "rate-limit store": cfg.redisUrl ? "redis" : "memory",
    channels: cfg.natsChannels
      ? `NATS JetStream (${nats(cfg.natsChannels)})`
      : cfg.channelsUrl
        ? `Redis streams (${redact(cfg.channelsUrl)})`
        : "in-process (Fake adapter, fed by the outbox)",
    tracing: cfg.tracingExporter ?? "off",
    metrics: cfg.metricsPort === null ? "off" : `prometheus on :${cfg.metricsPort}/metrics`,
  };
}

/**
 * The configuration a service should use: the one its broker was built with (so tests can run
 * differently configured nodes in one process), else the process-wide one.
 */
export function configOf(svc: { broker: { options: unknown } }): MallConfig {
  return ((svc.broker.options as { mall?: MallConfig }).mall ?? getConfig()) as MallConfig;
}
