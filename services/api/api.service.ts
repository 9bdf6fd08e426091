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
import { Context, Errors, Service, ServiceBroker, ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import type { Meta } from "../shared/meta";
import helmet from "helmet";
import { QueryTypes } from "sequelize";
import { availableServices, selectServices } from "../shared/broker";
import { MallConfig, configOf } from "../shared/config";
import { acquireSequelize, releaseSequelize } from "../shared/db";
import { bizError } from "../shared/errors";
import { KvStore, acquireKv, releaseKv } from "../shared/kv";
import { withLogScope } from "../shared/logging";
import { API_BASE } from "../shared/created";
import { EpochCache, isSessionRevoked, verifyAccessToken } from "../shared/tokens";
import { SESSION_EPOCH_CHANGED, SessionEpochChanged } from "../users/users.contracts";
import { clientErrorResponse, mapError, success } from "./envelope";
import { ActionInfo, AliasInfo, buildOpenApi } from "./openapi";
import { routeWebApp, webAppsHandler } from "./web-apps";

type Req = IncomingMessage & {
  $requestId?: string;
  $action?: { name: string; auth?: ActionInfo["auth"]; roles?: string[]; rawBody?: boolean; tokenBucket?: boolean };
  /** the matched route alias (set before the rate limiter runs, unlike `$action`) */
  $alias?: { action?: string | null };
  /** the JSON body's bytes as received (body-parser `verify`), for actions declaring `rawBody` */
  $rawBody?: Buffer;
  $ctx?: Context<unknown, Meta>;
  $route?: unknown;
  socket: IncomingMessage["socket"];
};
type Res = ServerResponse;


type ApiThis = Service & {
  cfg: MallConfig;
  kv: KvStore;
  epochs: EpochCache;
  dbUrl: string | null;
  aliases: GatewayAlias[];
  logger: Service["logger"];
  /** services whose routes this gateway must serve before it is ready */
  expected: string[];
  /** the last readiness verdict and when it was computed: probes in a burst share one check */
  readyCache: { at: number; checks: Promise<Record<string, string>> } | null;
  /** set on the first "ready": from then on a missing service degrades readiness, not fails it */
  everReady: boolean;
  readinessChecks(): Promise<Record<string, string>>;
  pendingRoutes(): { missingServices: string[]; missingRoutes: string[] };
  openApiDocument(): Record<string, unknown>;
  /** the built storefront and admin console (web/dist), tried before the API routes */
  webApps: ReturnType<typeof webAppsHandler>;
};

type GatewayAlias = { method: string; path: string; fullPath: string; action?: string; type?: string; route: { path: string }; _generated?: boolean };

/** how long one readiness verdict is reused: a probe storm costs one round of checks a second */
const READY_CACHE_MS = 1000;
/** readiness requests per client per minute: far above any probe schedule */
const READY_RATE_LIMIT = 600;

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

/** Does the action behind this alias declare `rateLimit: false` (e.g. a signed provider callback)? */
function rateLimitExempt(broker: ServiceBroker, action: string | null | undefined): boolean {
  return !!action && !!broker.registry.actions.get(action)?.endpoints.some((e) => e.action?.rateLimit === false);
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
<script src="/api/docs/init.js"></script>
</body></html>`;
// a file, not an inline script, so the Content-Security-Policy can forbid inline scripts
const DOCS_INIT_JS = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#ui" });\n`;
const DOCS_ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "init.js": "application/javascript; charset=utf-8",
};

/**
 * Security headers on every response (helmet's defaults: nosniff, Referrer-Policy, HSTS, …)
 * with a Content-Security-Policy that forbids framing and inline scripts. Inline styles stay
 * allowed because Swagger UI sets them; the API docs load their script from /api/docs/init.js.
 */
const helmetHeaders = helmet({
  contentSecurityPolicy: {
    directives: {
      "frame-ancestors": ["'none'"],
      "upgrade-insecure-requests": null,
    },
  },
  frameguard: { action: "deny" },
  // the API and its product images are meant for other origins too (a storefront on its own
  // domain, third parties): CORS decides who may read, so resources are not same-origin only
  crossOriginResourcePolicy: { policy: "cross-origin" },
});

/**
 * What helmet sets, computed once: with these options every header is the same for every
 * request, and running helmet's dozen middlewares per request was ≈ 4 % of an authenticated
 * read's CPU (bench:gateway profile). The unit test compares this list with helmet's own output.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = (() => {
  const set = new Map<string, string>();
  const res = {
    setHeader: (k: string, v: unknown) => void set.set(k, String(v)),
    removeHeader: (k: string) => void set.delete(k),
    getHeader: (k: string) => set.get(k),
  };
  let failed: unknown = null;
  helmetHeaders({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => void (failed = err ?? null));
  if (failed) throw failed;
  return [...set];
})();

export function securityHeaders(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  for (const [k, v] of SECURITY_HEADERS) res.setHeader(k, v);
  next();
}

/** helmet itself, for the test that checks SECURITY_HEADERS against it. */
export { helmetHeaders };

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
    // moleculer-web handles each HTTP request inside this action. The broker's retry policy must
    // not re-run it: a retryable failure of a downstream call (already retried by that call)
    // would run the request a second time, on a request object the first run has rewritten —
    // which routed it nowhere and answered 404 instead of 503
    rest: { retryPolicy: { enabled: false } },
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
      async handler(this: ApiThis) {
        const now = Date.now();
        if (!this.readyCache || now - this.readyCache.at >= READY_CACHE_MS) this.readyCache = { at: now, checks: this.readinessChecks() };
        const checks = await this.readyCache.checks;
        const failing = Object.entries(checks).filter(([, v]) => v !== "ok" && !v.startsWith("degraded"));
        const { missingServices } = this.pendingRoutes();
        if (failing.length) {
          throw new Errors.MoleculerError(
            `not ready: ${failing.map(([k]) => k).join(", ")} unavailable`,
            503,
            "NOT_READY",
            { node: this.broker.nodeID, checks, missingServices },
          );
        }
        this.everReady = true;
        return { status: missingServices.length ? "degraded" : "ready", node: this.broker.nodeID, checks, missingServices };
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
      // any name is accepted here so that an unknown asset is a 404, not a validation error
      params: { file: { type: "string", max: 200 } },
      handler(ctx: Context<{ file: string }, Meta>) {
        const type = Object.hasOwn(DOCS_ASSETS, ctx.params.file) ? DOCS_ASSETS[ctx.params.file] : undefined;
        if (!type || !SWAGGER_DIR) throw bizError("NOT_FOUND");
        ctx.meta.$raw = true;
        ctx.meta.$responseType = type;
        ctx.meta.$responseHeaders = { "Cache-Control": "public, max-age=86400" };
        return ctx.params.file === "init.js" ? DOCS_INIT_JS : fs.createReadStream(path.join(SWAGGER_DIR, ctx.params.file));
      },
    },
  },

  methods: {
    /**
     * Every HTTP request starts here: a GET for a built web app (web-apps.ts) is answered from
     * web/dist; everything else — the API, docs, ops endpoints, unknown paths — goes to
     * moleculer-web's own handler as before.
     */
    httpHandler(this: ApiThis, req: Req, res: Res, next?: () => void) {
      const gateway = () => (ApiGateway as unknown as { methods: { httpHandler(this: unknown, q: Req, s: Res, n?: () => void): unknown } }).methods.httpHandler.call(this, req, res, next);
      // the API and ops endpoints go straight to moleculer-web: no second set of headers, no stat
      if (!routeWebApp(req.method, req.url ?? "/")) return gateway();
      const incoming = req.headers["x-request-id"];
      res.setHeader("X-Request-Id", typeof incoming === "string" && REQUEST_ID_RE.test(incoming) ? incoming : crypto.randomUUID());
      securityHeaders(req, res, () => undefined);
      this.webApps(req, res, () => void gateway());
    },

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
      // the session ended (logout), or every token of the user did (disabled, roles changed, revoked)
      const [revoked, minEpoch] = await Promise.all([isSessionRevoked(this.kv, user.sid), this.epochs.minimum(user.id)]);
      if (revoked || (minEpoch !== null && user.epoch < minEpoch)) throw bizError("TOKEN_REVOKED");
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
      // a per-user token bucket for actions a crowd hammers (a flash sale's purchase)
      if (action?.tokenBucket && ctx.meta.user && this.cfg.rateLimit.enabled) {
        const { rateBurst, ratePerSec } = this.cfg.seckill;
        const waitMs = await this.kv.takeToken(`tb:${action.name}:${ctx.meta.user.id}`, rateBurst, ratePerSec);
        if (waitMs > 0) throw bizError("RATE_LIMITED", "too many attempts, slow down", { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
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
      // routes are generated from the registry a moment after services appear: a gateway is ready
      // only when every route of every service it expects is in place (else the first requests 404)
      const pending = this.pendingRoutes();
      // Before its first "ready" a gateway waits for every expected service. Afterwards a service
      // that goes away is reported but does not fail readiness: every gateway sees the same
      // registry, so pulling them all out of the load balancer would turn that service's 503s
      // into an outage of the whole shop
      const missing = pending.missingServices.join(", ");
      checks.services = !missing ? "ok" : this.everReady ? `degraded: missing ${missing}` : `down: missing ${missing}`;
      checks.routes = pending.missingRoutes.length ? `down: ${pending.missingRoutes.length} routes pending (${pending.missingRoutes.slice(0, 3).join(", ")})` : "ok";
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

    /** Expected services not (yet) in the registry, and REST routes of present ones not yet aliased. */
    pendingRoutes(this: ApiThis) {
      const services = this.broker.registry.getServiceList({ onlyAvailable: true, withActions: true, grouping: true }) as {
        name: string;
        actions?: Record<string, { name: string; rest?: unknown; visibility?: string }>;
      }[];
      const byName = new Map(services.map((svc) => [svc.name, svc]));
      const aliased = new Set(this.aliases.filter((a) => a.route.path === API_BASE && a.action).map((a) => a.action));
      const missingServices: string[] = [];
      const missingRoutes: string[] = [];
      for (const name of this.expected) {
        const svc = byName.get(name);
        if (!svc) {
          missingServices.push(name);
          continue;
        }
        for (const a of Object.values(svc.actions ?? {})) {
          if (a.rest && (a.visibility ?? "published") === "published" && !aliased.has(a.name)) missingRoutes.push(a.name);
        }
      }
      return { missingServices, missingRoutes };
    },

    /**
     * moleculer-web rebuilds a route's aliases from the registry whenever services change, so a
     * service whose last node left would lose its routes and answer 404 NOT_FOUND. Aliases seen
     * once are kept: a request for them then finds no endpoint and answers 503
     * SERVICE_UNAVAILABLE (retryable) until a node serves the action again.
     */
    regenerateAutoAliases(this: ApiThis & { settings: { optimizeOrder?: boolean }; optimizeAliasesOrder(): void }, route: { path: string }) {
      const before = this.aliases.filter((a) => a.route === route && a._generated);
      (ApiGateway as unknown as { methods: { regenerateAutoAliases(this: unknown, r: unknown): void } }).methods.regenerateAutoAliases.call(this, route);
      const present = new Set(this.aliases.filter((a) => a.route === route).map((a) => `${a.method} ${a.path}`));
      const kept = before.filter((a) => !present.has(`${a.method} ${a.path}`));
      if (!kept.length) return;
      this.aliases.push(...kept);
      if (this.settings.optimizeOrder) this.optimizeAliasesOrder();
    },

    openApiDocument(this: ApiThis) {
      const actions = new Map<string, ActionInfo>();
      const list = this.broker.registry.getActionList({ onlyAvailable: false, withEndpoints: false }) as {
        name: string;
        action?: ActionInfo;
      }[];
      for (const a of list) if (a.action) actions.set(a.name, { ...a.action, name: a.name });
      const aliases: AliasInfo[] = this.aliases
        .filter((a) => a.action && a.route.path === API_BASE)
        .map((a) => ({ method: a.method, path: a.fullPath, action: a.action!, type: a.type }));
      const servers = this.cfg.publicBaseUrl ? [{ url: this.cfg.publicBaseUrl, description: "this shop" }] : undefined;
      return buildOpenApi({ title: "Mall REST API", version: "v1", aliases, actions, servers });
    },
  },

  events: {
    [SESSION_EPOCH_CHANGED](this: ApiThis, ctx: Context<SessionEpochChanged>) {
      this.epochs.raise(ctx.params.userId, ctx.params.epoch);
    },
  },

  created(this: ApiThis & { settings: Record<string, unknown>; routes: unknown[]; addRoute(r: unknown): unknown }) {
    this.cfg = configOf(this);
    this.kv = acquireKv(this.cfg.redisUrl, this.cfg.namespace);
    this.epochs = new EpochCache(() => this.kv, this.cfg.sessionEpochCacheMs);
    // readiness checks the main database when this node is configured with one
    this.dbUrl = this.cfg.databaseUrl;
    // a cluster gateway serves the whole shop; an embedded node serves what it runs
    this.expected = (this.cfg.expectedServices ?? (this.cfg.shape === "cluster" ? availableServices() : selectServices(this.cfg))).filter((s) => s !== "api");
    this.readyCache = null;
    this.everReady = false;
    this.webApps = webAppsHandler(this.cfg.webDistDir);
    configure(this);
  },

  async stopped(this: ApiThis) {
    await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

/**
 * moleculer-web's per-request lines ("=> GET /…", "<= 200 GET /… [+1.2 ms]") go to the debug
 * level, but moleculer-web formats them — colours, a timing — before the logger drops them: about
 * 2 % of an authenticated read's CPU (perf, bench:gateway). Ask for them only when debug lines are
 * kept.
 */
export function requestLogLevel(logLevel: string): "debug" | null {
  return logLevel === "debug" || logLevel === "trace" ? "debug" : null;
}

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
  svc.settings.logRequest = svc.settings.logResponse = requestLogLevel(cfg.logLevel);
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
    securityHeaders(req, res, () => undefined);
  };
  svc.settings.onError = (req: Req, res: Res, err: unknown) => {
    const traceId = req.$requestId ?? crypto.randomUUID();
    const mapped = mapError(err, traceId);
    if (mapped.internal) {
      const url = (req as Req & { originalUrl?: string }).originalUrl ?? req.url;
      withLogScope({ requestId: traceId, action: req.$action?.name }, () => svc.logger.error(`request ${traceId} ${req.method} ${url} failed:`, err));
    }
    if (!res.headersSent) {
      res.setHeader("X-Request-Id", traceId);
      const retryAfter = (mapped.body.data as { retryAfter?: unknown } | undefined)?.retryAfter;
      if (mapped.status === 429 && typeof retryAfter === "number") res.setHeader("Retry-After", String(retryAfter));
    }
    sendJson(res, mapped.status, mapped.body);
  };

  // requests Node's parser rejects (oversized headers, bytes a URL may not hold) never reach a
  // route: answer them with the envelope and a request id instead of Node's bare 400/431
  const server = (svc as unknown as { server?: import("node:http").Server }).server;
  server?.on("clientError", (err: NodeJS.ErrnoException, socket: import("node:stream").Duplex) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) return socket.destroy();
    socket.end(clientErrorResponse(err.code, crypto.randomUUID()));
  });

  svc.addRoute({
    path: API_BASE,
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
            // no key, no count: an exempt action is gated by its own check (a signature)
            key: (req: Req) => (rateLimitExempt(svc.broker, req.$alias?.action) ? null : clientIp(req, cfg.trustProxy)),
            StoreFactory: kvRateStore(() => svc.kv),
          },
        }
      : {}),
  });
  // the gateway's own endpoints describe this node: never let the registry answer them from
  // another gateway (a not-ready node would then report another node's "ready")
  const own = {
    path: "/",
    ...common,
    callOptions: { nodeID: svc.broker.nodeID },
    authentication: false,
    authorization: false,
    bodyParsers: { json: false, urlencoded: false },
  };
  svc.addRoute({
    ...own,
    name: "ops",
    aliases: {
      "GET health": "api.health",
      "GET api/openapi.json": "api.openapi",
      "GET api/docs": "api.docs",
      "GET api/docs/:file": "api.docsAsset",
    },
  });
  // readiness touches the database, Redis and NATS: cached (READY_CACHE_MS) and limited per
  // client so that it cannot be used to load them; liveness above stays unlimited
  svc.addRoute({
    ...own,
    name: "readiness",
    aliases: { "GET ready": "api.ready" },
    // counted in this process: a readiness answer must not depend on Redis being up
    rateLimit: { window: 60_000, limit: READY_RATE_LIMIT, headers: false, key: (req: Req) => clientIp(req, cfg.trustProxy) },
  });
}

export default ApiService as unknown as ServiceSchema;
