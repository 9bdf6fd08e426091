import crypto from "node:crypto";
import path from "node:path";
import { ConfigError, describeBackends, parseConfig, secretWeakness, serviceDatabaseUrl } from "../../services/shared/config";
import { natsConnectionOptions } from "../../moleculer.config";

const CLUSTER = {
  TRANSPORTER: "nats://127.0.0.1:4222",
  JWT_SECRET: "3f9c1a7e5b2d8046e1c9a3f7b5d20e8c",
  SANDBOX_SECRET: "Qm7vX2pL9sK4tR8wZ1yB6nC3dF5gH0jA",
};

describe("parseConfig: embedded defaults (no environment at all)", () => {
  const cfg = parseConfig({});

  it("is the embedded shape with in-process transport, SQLite under ./data, memory cache and Fake channels", () => {
    expect(cfg.shape).toBe("embedded");
    expect(cfg.transporter).toBeNull();
    expect(cfg.dataDir).toBe(path.resolve("./data"));
    expect(cfg.databaseUrl).toBe(`sqlite:${path.join(path.resolve("./data"), "mall.sqlite")}`);
    expect(cfg.redisUrl).toBeNull();
    expect(cfg.channelsUrl).toBeNull();
    expect(cfg.uploadDir).toBe(path.join(path.resolve("./data"), "uploads"));
  });

  it("generates throw-away secrets and says so", () => {
    expect(cfg.jwtSecretGenerated).toBe(true);
    expect(cfg.jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(cfg.sandboxSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(parseConfig({}).jwtSecret).not.toBe(cfg.jwtSecret);
  });

  it("serves on 0.0.0.0:3000, runs every service, migrates and seeds on start", () => {
    expect(cfg.port).toBe(3000);
    expect(cfg.host).toBe("0.0.0.0");
    expect(cfg.services).toBeNull();
    expect(cfg.migrateOnStart).toBe(true);
    expect(cfg.seedDemo).toBe(true);
    expect(cfg.adminUsername).toBeNull();
    expect(cfg.adminPassword).toBeNull();
  });

  it("has the documented operational defaults", () => {
    expect(cfg.namespace).toBe("mall");
    expect(cfg.nodeID).toBeUndefined();
    expect(cfg.logLevel).toBe("info");
    expect(cfg.logFormat).toBe("pretty");
    expect(cfg.metricsPort).toBe(3030);
    expect(cfg.tracingExporter).toBeNull();
    expect(cfg.accessTokenTtlSec).toBe(900);
    expect(cfg.refreshTokenTtlSec).toBe(30 * 24 * 3600);
    expect(cfg.orderPaymentTimeoutSec).toBe(900);
    expect(cfg.seckillPaymentTimeoutSec).toBe(300);
    expect(cfg.requestTimeoutMs).toBe(10_000);
    expect(cfg.rateLimit).toEqual({ enabled: true, limit: 600, windowMs: 60_000, loginLimit: 10, loginWindowMs: 15 * 60_000 });
    expect(cfg.corsOrigins).toBe("*");
    expect(cfg.trustProxy).toBe(false);
    expect(cfg.publicBaseUrl).toBeNull();
  });

  it("treats blank values as unset", () => {
    const c = parseConfig({ TRANSPORTER: "  ", PORT: "", JWT_SECRET: " " });
    expect(c.shape).toBe("embedded");
    expect(c.port).toBe(3000);
    expect(c.jwtSecretGenerated).toBe(true);
  });
});

describe("parseConfig: cluster shape", () => {
  it("requires JWT_SECRET when TRANSPORTER is set", () => {
    expect(() => parseConfig({ TRANSPORTER: CLUSTER.TRANSPORTER, SANDBOX_SECRET: "x" })).toThrow(ConfigError);
    expect(() => parseConfig({ TRANSPORTER: CLUSTER.TRANSPORTER, SANDBOX_SECRET: "x" })).toThrow(/JWT_SECRET/);
  });

  it("requires SANDBOX_SECRET when TRANSPORTER is set", () => {
    expect(() => parseConfig({ TRANSPORTER: CLUSTER.TRANSPORTER, JWT_SECRET: CLUSTER.JWT_SECRET })).toThrow(/SANDBOX_SECRET/);
  });

  it("refuses a short JWT_SECRET in either shape", () => {
    expect(() => parseConfig({ ...CLUSTER, JWT_SECRET: "short" })).toThrow(ConfigError);
    expect(() => parseConfig({ JWT_SECRET: "short" })).toThrow(/at least 16/);
  });

  it("switches the defaults: no migration or demo seed on start, JSON logs", () => {
    const c = parseConfig({ ...CLUSTER, DATABASE_URL: "mysql://root@db:3306/mall", REDIS_URL: "redis://redis:6379", CHANNELS_URL: "nats://nats:4222" });
    expect(c.shape).toBe("cluster");
    expect(c.transporter).toBe(CLUSTER.TRANSPORTER);
    expect(c.jwtSecret).toBe(CLUSTER.JWT_SECRET);
    expect(c.jwtSecretGenerated).toBe(false);
    expect(c.sandboxSecret).toBe(CLUSTER.SANDBOX_SECRET);
    expect(c.migrateOnStart).toBe(false);
    expect(c.seedDemo).toBe(false);
    expect(c.logFormat).toBe("json");
    expect(c.databaseUrl).toBe("mysql://root@db:3306/mall");
    expect(c.redisUrl).toBe("redis://redis:6379");
    expect(c.channelsUrl).toBe("nats://nats:4222");
  });

  it("keeps the sandbox payment channel off unless SANDBOX_ENABLED=true (embedded: on unless false)", () => {
    expect(parseConfig({}).sandboxEnabled).toBe(true);
    expect(parseConfig({ SANDBOX_ENABLED: "false" }).sandboxEnabled).toBe(false);
    expect(parseConfig(CLUSTER).sandboxEnabled).toBe(false);
    expect(parseConfig({ ...CLUSTER, SANDBOX_ENABLED: "" }).sandboxEnabled).toBe(false);
    expect(parseConfig({ ...CLUSTER, SANDBOX_ENABLED: "true" }).sandboxEnabled).toBe(true);
    expect(() => parseConfig({ ...CLUSTER, SANDBOX_ENABLED: "maybe" })).toThrow(/SANDBOX_ENABLED/);
  });

  it("lets explicit values override the shape defaults", () => {
    const c = parseConfig({ ...CLUSTER, MIGRATE_ON_START: "true", SEED_DEMO: "yes", LOG_FORMAT: "pretty" });
    expect(c.migrateOnStart).toBe(true);
    expect(c.seedDemo).toBe(true);
    expect(c.logFormat).toBe("pretty");
    expect(parseConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
  });

  it("accepts the transports, databases, caches and channel brokers it supports", () => {
    for (const t of ["nats://a:4222", "redis://a:6379", "tcp://"]) expect(parseConfig({ ...CLUSTER, TRANSPORTER: t }).transporter).toBe(t);
    for (const d of ["mysql://u:p@h/db", "mariadb://h/db", "sqlite:/tmp/x.sqlite"]) expect(parseConfig({ DATABASE_URL: d }).databaseUrl).toBe(d);
    expect(parseConfig({ REDIS_URL: "rediss://h:6380" }).redisUrl).toBe("rediss://h:6380");
    expect(parseConfig({ CHANNELS_URL: "redis://h:6379" }).channelsUrl).toBe("redis://h:6379");
  });
});

describe("parseConfig: bad values are a ConfigError naming the variable", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "abc" }, /PORT must be an integer/],
    [{ PORT: "3000.5" }, /PORT/],
    [{ PORT: "-1" }, /PORT must be >= 0/],
    [{ PORT: "70000" }, /PORT must be <= 65535/],
    [{ METRICS_PORT: "99999" }, /METRICS_PORT/],
    [{ METRICS_PORT: "yes" }, /METRICS_PORT/],
    [{ TRANSPORTER: "http://nats:4222" }, /TRANSPORTER must start with one of nats:, tls:, redis:, tcp:/],
    [{ DATABASE_URL: "postgres://db/mall" }, /DATABASE_URL/],
    [{ REDIS_URL: "localhost:6379" }, /REDIS_URL/],
    [{ CHANNELS_URL: "amqp://mq" }, /CHANNELS_URL/],
    [{ MIGRATE_ON_START: "maybe" }, /MIGRATE_ON_START must be true or false/],
    [{ RATE_LIMIT_ENABLED: "disabled" }, /RATE_LIMIT_ENABLED/],
    [{ TRUST_PROXY: "2" }, /TRUST_PROXY/],
    [{ TRACING_EXPORTER: "jaeger" }, /TRACING_EXPORTER must be console, zipkin or none/],
    [{ ORDER_PAYMENT_TIMEOUT: "0" }, /ORDER_PAYMENT_TIMEOUT must be >= 1/],
    [{ SECKILL_PAYMENT_TIMEOUT: "5m" }, /SECKILL_PAYMENT_TIMEOUT/],
    [{ ACCESS_TOKEN_TTL: "5" }, /ACCESS_TOKEN_TTL must be >= 10/],
    [{ RATE_LIMIT_MAX: "0" }, /RATE_LIMIT_MAX/],
    [{ RATE_LIMIT_WINDOW_MS: "10" }, /RATE_LIMIT_WINDOW_MS/],
  ];
  it.each(cases)("%p", (env, message) => {
    let err: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  it("accepts the edges of the port range", () => {
    expect(parseConfig({ PORT: "0" }).port).toBe(0);
    expect(parseConfig({ PORT: "65535" }).port).toBe(65535);
    expect(parseConfig({ METRICS_PORT: "0" }).metricsPort).toBe(0);
  });
});

describe("parseConfig: SERVICES", () => {
  it("is null (every service) when unset or blank", () => {
    expect(parseConfig({}).services).toBeNull();
    expect(parseConfig({ SERVICES: "   " }).services).toBeNull();
  });
  it("splits on commas, trims and drops empty names", () => {
    expect(parseConfig({ SERVICES: "api" }).services).toEqual(["api"]);
    expect(parseConfig({ SERVICES: " api, users ,,catalog,inventory " }).services).toEqual(["api", "users", "catalog", "inventory"]);
  });
});

describe("parseConfig: switches and lists", () => {
  it("RATE_LIMIT_ENABLED=false turns the limiter off (and the usual spellings work)", () => {
    expect(parseConfig({ RATE_LIMIT_ENABLED: "false" }).rateLimit.enabled).toBe(false);
    for (const v of ["0", "no", "off", "FALSE"]) expect(parseConfig({ RATE_LIMIT_ENABLED: v }).rateLimit.enabled).toBe(false);
    for (const v of ["1", "yes", "on", "True"]) expect(parseConfig({ RATE_LIMIT_ENABLED: v }).rateLimit.enabled).toBe(true);
  });

  it("reads the rate-limit numbers", () => {
    const c = parseConfig({ RATE_LIMIT_MAX: "50", RATE_LIMIT_WINDOW_MS: "1000", LOGIN_RATE_LIMIT_MAX: "3", LOGIN_RATE_LIMIT_WINDOW_MS: "60000" });
    expect(c.rateLimit).toEqual({ enabled: true, limit: 50, windowMs: 1000, loginLimit: 3, loginWindowMs: 60000 });
  });

  it("METRICS_PORT=off disables metrics", () => {
    expect(parseConfig({ METRICS_PORT: "off" }).metricsPort).toBeNull();
    expect(parseConfig({ METRICS_PORT: "9100" }).metricsPort).toBe(9100);
  });

  it("TRACING_EXPORTER is case-insensitive and 'none' means off", () => {
    expect(parseConfig({ TRACING_EXPORTER: "Zipkin" }).tracingExporter).toBe("zipkin");
    expect(parseConfig({ TRACING_EXPORTER: "console" }).tracingExporter).toBe("console");
    expect(parseConfig({ TRACING_EXPORTER: "none" }).tracingExporter).toBeNull();
  });

  it("CORS_ORIGINS is '*' or a trimmed list", () => {
    expect(parseConfig({ CORS_ORIGINS: "*" }).corsOrigins).toBe("*");
    expect(parseConfig({ CORS_ORIGINS: "https://a.example, https://b.example" }).corsOrigins).toEqual(["https://a.example", "https://b.example"]);
  });

  it("lower-cases LOG_LEVEL and resolves DATA_DIR / UPLOAD_DIR to absolute paths", () => {
    const c = parseConfig({ LOG_LEVEL: "DEBUG", DATA_DIR: "/tmp/mall-data", UPLOAD_DIR: "rel/uploads" });
    expect(c.logLevel).toBe("debug");
    expect(c.databaseUrl).toBe("sqlite:/tmp/mall-data/mall.sqlite");
    expect(c.uploadDir).toBe(path.resolve("rel/uploads"));
  });
});

describe("serviceDatabaseUrl and describeBackends", () => {
  it("<SERVICE>_DATABASE_URL overrides DATABASE_URL for that service only", () => {
    const env = { ...CLUSTER, DATABASE_URL: "mysql://root@db/mall", CATALOG_DATABASE_URL: "mysql://root@catalog-db/catalog" };
    const cfg = parseConfig(env);
    expect(serviceDatabaseUrl(cfg, "catalog", env)).toBe("mysql://root@catalog-db/catalog");
    expect(serviceDatabaseUrl(cfg, "users", env)).toBe("mysql://root@db/mall");
    expect(() => serviceDatabaseUrl(cfg, "users", { USERS_DATABASE_URL: "pg://x" })).toThrow(ConfigError);
  });

  it("names each backend and never prints a password", () => {
    const cfg = parseConfig({ ...CLUSTER, DATABASE_URL: "mysql://root:hunter2@db/mall", REDIS_URL: "redis://:s3cret@redis:6379", CHANNELS_URL: "nats://nats:4222" });
    const d = describeBackends(cfg);
    expect(d.shape).toBe("cluster");
    expect(d.database).toBe("mysql://root:***@db/mall");
    expect(d.channels).toMatch(/NATS JetStream/);
    expect(JSON.stringify(d)).not.toMatch(/hunter2|s3cret/);
    const e = describeBackends(parseConfig({}));
    expect(e.transport).toMatch(/none/);
    expect(e.cache).toBe("memory");
    expect(e.channels).toMatch(/Fake/);
  });
});

describe("parseConfig: session settings", () => {
  it("defaults to a 10 s refresh grace window and a 2 s epoch cache, within bounds", () => {
    expect(parseConfig({})).toMatchObject({ refreshReuseGraceSec: 10, sessionEpochCacheMs: 2000 });
    expect(parseConfig({ REFRESH_REUSE_GRACE_SEC: "0", SESSION_EPOCH_CACHE_MS: "0" })).toMatchObject({ refreshReuseGraceSec: 0, sessionEpochCacheMs: 0 });
    expect(() => parseConfig({ REFRESH_REUSE_GRACE_SEC: "61" })).toThrow(ConfigError);
    expect(() => parseConfig({ SESSION_EPOCH_CACHE_MS: "60000" })).toThrow(ConfigError);
  });
});

describe("parseConfig: cluster secrets must be strong", () => {
  const refused: [string, RegExp][] = [
    ["REPLACE_ME", /placeholder/],
    ["REPLACE_ME_with_at_least_16_random_characters", /placeholder/],
    ["change-me-to-a-long-random-string-please-1234", /placeholder/],
    ["changeme", /placeholder/],
    ["this-is-an-example-secret-of-40-characters", /placeholder/],
    ["a-long-enough-cluster-secret", /shorter than 32/],
    ["j".repeat(64), /fewer than 8 different/],
    ["0123456789abcdef0123456789abcdef", /repeats a shorter pattern/],
    ["Kp9#vX2q".repeat(5), /repeats a shorter pattern/],
    ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", /runs or sequences/],
    ["aaaabbbbccccddddeeeeffffgggghhhhiiii", /runs or sequences/],
  ];

  it.each(refused)("refuses %p for JWT_SECRET and SANDBOX_SECRET (%p), without printing it", (value, why) => {
    for (const key of ["JWT_SECRET", "SANDBOX_SECRET"]) {
      let err: unknown;
      try {
        parseConfig({ ...CLUSTER, [key]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(new RegExp(`^${key} `));
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toMatch(/openssl rand -hex 32/);
      expect((err as Error).message).not.toContain(value);
    }
  });

  it("accepts what the documented generators produce, every time", () => {
    for (let i = 0; i < 2000; i++) {
      for (const v of [crypto.randomBytes(32).toString("hex"), crypto.randomBytes(16).toString("hex"), crypto.randomBytes(32).toString("base64"), crypto.randomBytes(24).toString("base64url")]) {
        expect({ v, why: secretWeakness(v) }).toEqual({ v, why: null });
      }
    }
    const c = parseConfig({ ...CLUSTER, JWT_SECRET: crypto.randomBytes(32).toString("hex"), SANDBOX_SECRET: crypto.randomBytes(32).toString("base64") });
    expect(c.shape).toBe("cluster");
  });

  it("leaves the embedded shape's rule alone (16 characters; it generates its own when unset)", () => {
    expect(parseConfig({ JWT_SECRET: "a-local-dev-secret" }).jwtSecret).toBe("a-local-dev-secret");
    expect(parseConfig({ SANDBOX_SECRET: "x" }).sandboxSecret).toBe("x");
  });
});

describe("parseConfig: NATS credentials and TLS", () => {
  const nats = (env: Record<string, string>) => parseConfig({ ...CLUSTER, ...env });

  it("a plain nats:// URL: host:port servers, no credentials, no TLS (the default port filled in)", () => {
    const c = nats({ TRANSPORTER: "nats://nats", CHANNELS_URL: "nats://a:4223,nats://b:4224" });
    expect(c.natsTransport).toEqual({ servers: ["nats:4222"] });
    expect(c.natsChannels).toEqual({ servers: ["a:4223", "b:4224"] });
  });

  it("user and password in the URL (percent-decoded), or a token as the URL's user", () => {
    expect(nats({ TRANSPORTER: "nats://mall:p%40ss@nats:4222" }).natsTransport).toEqual({ servers: ["nats:4222"], user: "mall", pass: "p@ss" });
    expect(nats({ TRANSPORTER: "nats://s3cr3t-token@nats:4222" }).natsTransport).toEqual({ servers: ["nats:4222"], token: "s3cr3t-token" });
  });

  it("NATS_USER/NATS_PASSWORD or NATS_TOKEN apply to TRANSPORTER and CHANNELS_URL alike", () => {
    const c = nats({ TRANSPORTER: "nats://nats:4222", CHANNELS_URL: "nats://nats:4222", NATS_USER: "mall", NATS_PASSWORD: "pw-from-a-secret" });
    expect(c.natsTransport).toEqual({ servers: ["nats:4222"], user: "mall", pass: "pw-from-a-secret" });
    expect(c.natsChannels).toEqual(c.natsTransport);
    expect(nats({ NATS_TOKEN: "tok" }).natsTransport).toEqual({ servers: ["127.0.0.1:4222"], token: "tok" });
  });

  it("tls:// requires TLS; NATS_TLS_CA / NATS_TLS_CERT+KEY add files and imply TLS", () => {
    expect(nats({ TRANSPORTER: "tls://nats:4222" }).natsTransport).toEqual({ servers: ["nats:4222"], tls: {} });
    expect(nats({ NATS_TLS_CA: "/etc/nats/ca.crt" }).natsTransport!.tls).toEqual({ caFile: "/etc/nats/ca.crt" });
    expect(nats({ TRANSPORTER: "tls://nats", NATS_TLS_CERT: "/c.pem", NATS_TLS_KEY: "/k.pem" }).natsTransport!.tls).toEqual({ certFile: "/c.pem", keyFile: "/k.pem" });
    expect(nats({ TRANSPORTER: "tls://nats", CHANNELS_URL: "tls://nats" }).natsChannels!.tls).toEqual({});
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ TRANSPORTER: "nats://a:b@nats", NATS_USER: "u", NATS_PASSWORD: "p" }, /one or the other/],
    [{ NATS_USER: "mall" }, /NATS_USER and NATS_PASSWORD go together/],
    [{ NATS_TOKEN: "t", NATS_USER: "u", NATS_PASSWORD: "p" }, /exclude each other/],
    [{ NATS_TLS_CERT: "/c.pem" }, /NATS_TLS_CERT and NATS_TLS_KEY/],
    [{ TRANSPORTER: "nats://a:b@n1,nats://c:d@n2" }, /same credentials/],
    [{ TRANSPORTER: "nats://n1,redis://n2" }, /nats:\/\/ or tls:\/\//],
    [{ NATS_USER: "mall", NATS_PASSWORD: "REPLACE_ME" }, /placeholder/],
    [{ TRANSPORTER: "nats://changeme@nats" }, /placeholder/],
    [{ CHANNELS_URL: "tls://" }, /CHANNELS_URL/],
  ];
  it.each(bad)("%p is a ConfigError", (env, message) => {
    expect(() => nats(env)).toThrow(ConfigError);
    expect(() => nats(env)).toThrow(message);
  });

  it("the broker gets the credentials as nats.js options, with no URL (which would lose them)", () => {
    const c = nats({ TRANSPORTER: "tls://nats:4222", NATS_TOKEN: "tok", NATS_TLS_CA: "/ca.crt" });
    expect(natsConnectionOptions(c.natsTransport!)).toEqual({ servers: ["nats:4222"], token: "tok", tls: { caFile: "/ca.crt" }, maxReconnectAttempts: -1 });
    const u = nats({ NATS_USER: "mall", NATS_PASSWORD: "pw" });
    expect(natsConnectionOptions(u.natsTransport!)).toEqual({ servers: ["127.0.0.1:4222"], user: "mall", pass: "pw", maxReconnectAttempts: -1 });
  });

  it("the startup banner names the auth method and never the password or token", () => {
    const d = describeBackends(nats({ TRANSPORTER: "nats://hunter2-token@nats:4222", CHANNELS_URL: "tls://mall:s3cret@nats:4222" }));
    expect(d.transport).toBe("NATS (nats://nats:4222, token)");
    expect(d.channels).toBe("NATS JetStream (tls://nats:4222, user mall, TLS)");
    expect(JSON.stringify(d)).not.toMatch(/hunter2|s3cret/);
  });
});

describe("parseConfig: database pool and SQL log", () => {
  it("DB_POOL_MAX (default 20) and SQL_LOG (default off)", () => {
    expect(parseConfig({}).db).toEqual({ poolMax: 20, sqlLog: false, sqliteSynchronous: "NORMAL", sqliteSyncTransactions: true });
    expect(parseConfig({ DB_POOL_MAX: "50", SQL_LOG: "true", SQLITE_SYNCHRONOUS: "full", SQLITE_SYNC_TRANSACTIONS: "false" }).db).toEqual({
      poolMax: 50,
      sqlLog: true,
      sqliteSynchronous: "FULL",
      sqliteSyncTransactions: false,
    });
    expect(() => parseConfig({ SQLITE_SYNCHRONOUS: "OFF" })).toThrow(/SQLITE_SYNCHRONOUS must be NORMAL or FULL/);
    expect(() => parseConfig({ DB_POOL_MAX: "0" })).toThrow(/DB_POOL_MAX must be >= 1/);
    expect(() => parseConfig({ SQL_LOG: "verbose" })).toThrow(/SQL_LOG must be true or false/);
  });
});
