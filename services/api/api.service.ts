/**
 * REST gateway. Transport only: request ids, CORS, body limits, JWT resolution into
 * `ctx.meta.user`, the role check each action declares, rate limiting, the envelope and error
 * masking, health/readiness/metrics and the generated OpenAPI document. Routes come from the
 * `rest` property of each service's actions (autoAliases), so a service adds its own endpoints.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Context, Errors, Service, ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { QueryTypes } from "sequelize";
import { MallConfig, configOf } from "../shared/config";
import { acquireSequelize, releaseSequelize } from "../shared/db";
import { bizError } from "../shared/errors";
import { KvStore, acquireKv, releaseKv } from "../shared/kv";
import { withLogScope } from "../shared/logging";
import { AuthUser, isSessionRevoked, verifyAccessToken } from "../shared/tokens";
import { mapError, success } from "./envelope";
import { ActionInfo, AliasInfo, buildOpenApi } from "./openapi";

type Req = IncomingMessage & {
  $requestId?: string;
  $action?: { name: string; auth?: ActionInfo["auth"]; roles?: string[]; rawBody?: boolean };
  /** the JSON body's bytes as received (body-parser `verify`), for actions declaring `rawBody` */
  $rawBody?: Buffer;
  $ctx?: Context<unknown, Meta>;
  $route?: unknown;
  socket: IncomingMessage["socket"];
};
type Res = ServerResponse;

export interface Meta {
  user?: AuthUser;
  clientIp?: string;
  idempotencyKey?: string;
  requestId?: string;
  $statusCode?: number;
  $responseType?: string;
  $responseHeaders?: Record<string, string>;
  $raw?: boolean;
  /** actions declaring `rawBody: true` only: the body as received and the request's X-* headers */
  rawBody?: string;
  headers?: Record<string, string>;
}

type ApiThis = Service & {
  cfg: MallConfig;
  kv: KvStore;
  dbUrl: string | null;
  aliases: { method: string; path: string; fullPath: string; action?: string; route: { path: string } }[];
  logger: Service["logger"];
  readinessChecks(): Promise<Record<string, string>>;
  openApiDocument(): Record<string, unknown>;
};

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{8,64}$/;

/** The client address as the socket saw it; X-Forwarded-For only counts behind a trusted proxy. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers["x-forwarded-for"];
    const list = (Array.isArray(xff) ? xff.join(",") : (xff ?? "")).split(",").map((s) => s.trim()).filter(Boolean);
    // the proxy appends the address it saw: the right-most entry is the one we can trust
    if (list.length) return list[list.length - 1];
  }
  return req.socket?.remoteAddress ?? "unknown";
}

/** moleculer-web rate-limit store backed by the shared KV (Redis in the cluster). */
function kvRateStore(getKv: () => KvStore) {
  return class KvRateStore {
    resetTime: number;
    constructor(private windowMs: number) {
      this.resetTime = Date.now() + windowMs;
    }
    async inc(key: string): Promise<number> {
      const [n, left] = await getKv().incr(`rl:${key}`, this.windowMs);
      this.resetTime = Date.now() + left;
      return n;
    }
  };
}

let SWAGGER_DIR: string | null = null;
try {
  SWAGGER_DIR = path.dirname(require.resolve("swagger-ui-dist/package.json"));
} catch {
  SWAGGER_DIR = null;
}

const DOCS_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Mall API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#ui" });</script>
</body></html>`;

function sendJson(res: Res, status: number, body: unknown) {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

const ApiService = {
  name: "api",
  mixins: [ApiGateway as unknown as ServiceSchema],

  settings: {
    port: 3000,
    ip: "0.0.0.0",
    // the real routes depend on configuration and are added in created(); not an array, so
    // moleculer-web adds no default "expose every action" route of its own
    routes: null,
    debounceTime: 100,
    // one line per alias, a hundred of them, each time the routes regenerate
    logRouteRegistration: "debug",
    log4XXResponses: false,
    logRequest: "debug",
    logResponse: "debug",
    logRequestParams: null,
    logResponseData: null,
    optimizeOrder: true,
  },

  actions: {
    // moleculer-web's management actions are never exposed over HTTP
    listAliases: { visibility: "protected", rest: null },
    addRoute: { visibility: "protected" },
    removeRoute: { visibility: "protected" },

    health: {
      auth: false,
      summary: "Liveness: 200 while the process is up",
      handler() {
        return { status: "ok", uptime: Math.round(process.uptime()) };
      },
    },

    ready: {
      auth: false,
      summary: "Readiness: database, Redis and NATS reachable (503 naming the failing part)",
      async handler(this: ApiThis, ctx: Context<unknown, Meta>) {
        const checks = await this.readinessChecks();
        const failing = Object.entries(checks).filter(([, v]) => v !== "ok");
        if (failing.length) {
          throw new Errors.MoleculerError(
            `not ready: ${failing.map(([k]) => k).join(", ")} unavailable`,
            503,
            "NOT_READY",
            { checks },
          );
        }
        void ctx;
        return { status: "ready", checks };
      },
    },

    metrics: {
      auth: false,
      summary: "Prometheus metrics of this node",
      handler(this: ApiThis, ctx: Context<unknown, Meta>) {
        ctx.meta.$raw = true;
        ctx.meta.$responseType = "text/plain; version=0.0.4; charset=utf-8";
        const reporters = ((this.broker as unknown as { metrics?: { reporter?: unknown[] } }).metrics?.reporter ?? []) as {
          generatePrometheusResponse?: () => string;
        }[];
        const prom = reporters.find((r) => typeof r.generatePrometheusResponse === "function");
        return prom ? prom.generatePrometheusResponse!() : "# metrics disabled (METRICS_PORT=off)\n";
      },
    },

    openapi: {
      auth: false,
      summary: "OpenAPI 3 document generated from the running actions",
      handler(this: ApiThis, ctx: Context<unknown, Meta>) {
        ctx.meta.$raw = true;
        return this.openApiDocument();
      },
    },

    docs: {
      auth: false,
      summary: "API documentation viewer",
      handler(ctx: Context<unknown, Meta>) {
        ctx.meta.$raw = true;
        ctx.meta.$responseType = "text/html; charset=utf-8";
        return DOCS_HTML;
      },
    },

    docsAsset: {
      auth: false,
      params: { file: { type: "enum", values: ["swagger-ui.css", "swagger-ui-bundle.js"] } },
      handler(ctx: Context<{ file: string }, Meta>) {
        if (!SWAGGER_DIR) throw bizError("NOT_FOUND");
        ctx.meta.$raw = true;
        ctx.meta.$responseType = ctx.params.file.endsWith(".css") ? "text/css; charset=utf-8" : "application/javascript; charset=utf-8";
        ctx.meta.$responseHeaders = { "Cache-Control": "public, max-age=86400" };
        return fs.createReadStream(path.join(SWAGGER_DIR, ctx.params.file));
      },
    },
  },

  methods: {
    /** moleculer-web's own logs "Request error!" without the error in JSON; onError logs it. */
    errorHandler(this: ApiThis & { sendError(req: Req, res: Res, err: unknown): void }, req: Req, res: Res, err: unknown) {
      this.sendError(req, res, err);
    },

    /** JWT → ctx.meta.user. A bad token on an endpoint that needs none is still a 401. */
    async authenticate(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: Req) {
      ctx.meta.clientIp = clientIp(req, this.cfg.trustProxy);
      ctx.meta.requestId = req.$requestId;
      if (req.$action?.rawBody) {
        // signed webhooks are verified over the exact bytes received, not a re-serialised object
        ctx.meta.rawBody = req.$rawBody ? req.$rawBody.toString("utf8") : "";
        ctx.meta.headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k, v]) => k.startsWith("x-") && typeof v === "string") as [string, string][],
        );
      }
      const idem = req.headers["idempotency-key"];
      if (typeof idem === "string" && idem.length) {
        if (!/^[A-Za-z0-9._:-]{1,128}$/.test(idem)) throw bizError("BAD_REQUEST", "Idempotency-Key must be 1-128 characters of letters, digits and ._:-");
        ctx.meta.idempotencyKey = idem;
      }
      const header = req.headers.authorization;
      if (!header) return null;
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw bizError("TOKEN_INVALID", "Authorization header must be 'Bearer <token>'");
      const user = verifyAccessToken(this.cfg.jwtSecret, m[1]);
      if (!user) throw bizError("TOKEN_INVALID");
      if (await isSessionRevoked(this.kv, user.sid)) throw bizError("TOKEN_REVOKED");
      return user;
    },

    /** The one place where an action's declared `auth` and `roles` are enforced. */
    async authorize(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: Req) {
      const action = req.$action;
      const auth = action?.auth === undefined ? "required" : action.auth;
      if (auth === "required" && !ctx.meta.user) throw bizError("UNAUTHORIZED");
      const roles = action?.roles;
      if (roles && roles.length) {
        if (!ctx.meta.user) throw bizError("UNAUTHORIZED");
        if (!ctx.meta.user.roles.some((r) => roles.includes(r))) throw bizError("FORBIDDEN", "your role does not allow this");
      }
    },

    async readinessChecks(this: ApiThis): Promise<Record<string, string>> {
      const checks: Record<string, string> = {};
      const withTimeout = <T>(p: Promise<T>, ms = 2000) =>
        Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timeout after ${ms} ms`)), ms).unref())]);
      const run = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await withTimeout(fn());
          checks[name] = "ok";
        } catch (err) {
          checks[name] = `down: ${(err as Error).message}`.slice(0, 200);
        }
      };
      const jobs: Promise<void>[] = [];
      // routes are generated from the registry a moment after services appear: not ready before
      jobs.push(
        run("routes", async () => {
          if (!this.aliases.some((a) => a.route.path === "/api/v1")) throw new Error("no API routes yet");
        }),
      );
      if (this.dbUrl) {
        const url = this.dbUrl;
        jobs.push(
          run("database", async () => {
            const s = acquireSequelize(url);
            try {
              await s.query("SELECT 1", { type: QueryTypes.SELECT });
            } finally {
              await releaseSequelize(url);
            }
          }),
        );
      }
      if (this.cfg.redisUrl) jobs.push(run("redis", () => this.kv.ping()));
      if (this.cfg.transporter) {
        jobs.push(
          run("transport", async () => {
            const transit = (this.broker as unknown as { transit?: { connected: boolean } }).transit;
            if (!transit?.connected) throw new Error("transporter not connected");
          }),
        );
      }
      if (this.cfg.channelsUrl) {
        jobs.push(
          run("channels", async () => {
            const adapter = (this.broker as unknown as { channelAdapter?: { connected: boolean } }).channelAdapter;
            if (!adapter?.connected) throw new Error("channel adapter not connected");
          }),
        );
      }
      await Promise.all(jobs);
      return checks;
    },

    openApiDocument(this: ApiThis) {
      const actions = new Map<string, ActionInfo>();
      const list = this.broker.registry.getActionList({ onlyAvailable: false, withEndpoints: false }) as {
        name: string;
        action?: ActionInfo;
      }[];
      for (const a of list) if (a.action) actions.set(a.name, { ...a.action, name: a.name });
      const aliases: AliasInfo[] = this.aliases
        .filter((a) => a.action && a.route.path === "/api/v1")
        .map((a) => ({ method: a.method, path: a.fullPath, action: a.action! }));
      return buildOpenApi({ title: "Mall REST API", version: "v1", aliases, actions });
    },
  },

  created(this: ApiThis & { settings: Record<string, unknown>; routes: unknown[]; addRoute(r: unknown): unknown }) {
    this.cfg = configOf(this);
    this.kv = acquireKv(this.cfg.redisUrl, this.cfg.namespace);
    // readiness checks the main database when this node is configured with one
    this.dbUrl = this.cfg.databaseUrl;
    configure(this);
  },

  async stopped(this: ApiThis) {
    await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

/**
 * Configuration-dependent settings and routes, added before the server listens (moleculer-web's
 * own created(), a mixin, ran first and built none).
 */
function configure(svc: ApiThis & { settings: Record<string, unknown>; routes: unknown[]; addRoute(r: unknown): unknown }) {
  const cfg = svc.cfg;
  const common = {
    mappingPolicy: "restrict",
    mergeParams: true,
    onAfterCall(ctx: Context<unknown, Meta>, _route: unknown, req: Req, _res: Res, data: unknown) {
      if (ctx.meta.$raw) return data;
      return success(data, req.$requestId ?? ctx.requestID ?? "");
    },
  };

  svc.settings.port = cfg.port;
  svc.settings.ip = cfg.host;
  svc.settings.cors = {
    origin: cfg.corsOrigins,
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    exposedHeaders: ["X-Request-Id", "Idempotent-Replayed", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"],
    credentials: false,
    maxAge: 600,
  };
  svc.settings.rootCallOptions = (options: Record<string, unknown>, req: Req, res: Res) => {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && REQUEST_ID_RE.test(incoming) ? incoming : crypto.randomUUID();
    req.$requestId = id;
    options.requestID = id;
    res.setHeader("X-Request-Id", id);
  };
  svc.settings.onError = (req: Req, res: Res, err: unknown) => {
    const traceId = req.$requestId ?? crypto.randomUUID();
    const mapped = mapError(err, traceId);
    if (mapped.internal) {
      const url = (req as Req & { originalUrl?: string }).originalUrl ?? req.url;
      withLogScope({ requestId: traceId, action: req.$action?.name }, () => svc.logger.error(`request ${traceId} ${req.method} ${url} failed:`, err));
    }
    if (!res.headersSent) res.setHeader("X-Request-Id", traceId);
    sendJson(res, mapped.status, mapped.body);
  };

  svc.addRoute({
    path: "/api/v1",
    ...common,
    autoAliases: true,
    authentication: true,
    authorization: true,
    bodyParsers: {
      json: { strict: true, limit: "1mb", verify: (req: Req, _res: Res, buf: Buffer) => void (req.$rawBody = buf) },
      urlencoded: false,
    },
    // busboy throws a plain Error (→ 500) on a body that is not multipart: answer 415 instead
    onBeforeCall(_ctx: Context<unknown, Meta>, _route: unknown, req: Req, _res: Res, alias?: { type?: string }) {
      if (alias?.type === "multipart" && !/^multipart\/form-data\b/i.test(req.headers["content-type"] ?? "")) {
        throw bizError("UNSUPPORTED_MEDIA_TYPE", "this endpoint takes multipart/form-data");
      }
    },
    ...(cfg.rateLimit.enabled
      ? {
          rateLimit: {
            window: cfg.rateLimit.windowMs,
            limit: cfg.rateLimit.limit,
            headers: true,
            key: (req: Req) => clientIp(req, cfg.trustProxy),
            StoreFactory: kvRateStore(() => svc.kv),
          },
        }
      : {}),
  });
  svc.addRoute({
    path: "/",
    ...common,
    authentication: false,
    authorization: false,
    bodyParsers: { json: false, urlencoded: false },
    aliases: {
      "GET health": "api.health",
      "GET ready": "api.ready",
      "GET metrics": "api.metrics",
      "GET api/openapi.json": "api.openapi",
      "GET api/docs": "api.docs",
      "GET api/docs/:file": "api.docsAsset",
    },
  });
}

export default ApiService as unknown as ServiceSchema;
