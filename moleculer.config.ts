/**
 * Broker options, from the environment only (DESIGN.md "Configuration"). Used by the runners in
 * `bin/` and by the test harness (which passes its own env object).
 */
import os from "node:os";
import type { BrokerOptions, Middleware } from "moleculer";
import { Middleware as ChannelsMiddleware } from "@moleculer/channels";
import { MallConfig, NatsOptions, getConfig } from "./services/shared/config";
import { StrictValidator } from "./services/shared/validator";
import { WireSafeActions } from "./services/shared/wire-safe";
import { DeadLetterReasonMiddleware, RacingSafeNatsAdapter } from "./services/shared/nats-channels";
import { DEAD_LETTER_CHANNEL } from "./services/ops/ops.contracts";
import { IdempotencyMiddleware } from "./mixins/idempotency.middleware";
import { LogScopeMiddleware, MallPinoLogger } from "./services/shared/logging";
import { INTERNAL_MIDDLEWARES } from "./services/shared/request-metrics";

/**
 * nats.js connect options. Passed instead of a URL because moleculer's transporter and the
 * channels adapter both reduce a URL to host:port: they would drop a token, the `tls://` scheme
 * (TLS required) and, in the channels adapter, the user and password too.
 */
export function natsConnectionOptions(o: NatsOptions): Record<string, unknown> {
  return {
    servers: o.servers,
    ...(o.user ? { user: o.user, pass: o.pass } : {}),
    ...(o.token ? { token: o.token } : {}),
    ...(o.tls ? { tls: { ...o.tls } } : {}),
    maxReconnectAttempts: -1,
  };
}

export function channelAdapter(cfg: MallConfig): unknown {
  const common = {
    maxRetries: 5,
    maxInFlight: 10,
    // services/ops records what lands here
    deadLettering: { enabled: true, queueName: DEAD_LETTER_CHANNEL },
  };
  if (!cfg.channelsUrl) return { type: "Fake", options: common };
  if (cfg.natsChannels) {
    return new RacingSafeNatsAdapter({
        ...common,
        nats: {
          connectionOptions: natsConnectionOptions(cfg.natsChannels),
          streamConfig: { duplicate_window: 2 * 60 * 1_000_000_000 },
          consumerOptions: { config: { deliver_policy: "all", ack_wait: 30 * 1_000_000_000 } },
        },
    });
  }
  return { type: "Redis", options: { ...common, redis: cfg.channelsUrl } };
}

/**
 * Backoff for channel consumers. The NATS adapter naks a failed message at once and JetStream
 * redelivers it at once, so `maxRetries` attempts would be spent within milliseconds of a
 * passing hiccup (a deadlock victim, a peer restarting) before the message is dead-lettered.
 * Waiting before the failure is reported spaces the attempts: 200 ms × 2^(delivery−1), ≤ 5 s
 * (well inside ack_wait). The in-process outbox delivery (embedded shape) has its own backoff.
 */
export const ChannelBackoffMiddleware = {
  name: "ChannelBackoff",
  localChannel(next: (msg: unknown, raw: unknown) => Promise<unknown>) {
    return async (msg: unknown, raw: unknown) => {
      try {
        return await next(msg, raw);
      } catch (err) {
        const delivery = (raw as { info?: { redeliveryCount?: number } } | undefined)?.info?.redeliveryCount ?? 1;
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** Math.max(0, delivery - 1), 5000)));
        throw err;
      }
    };
  },
};

export function brokerOptions(cfg: MallConfig = getConfig()): BrokerOptions {
  const middlewares: Middleware[] = [
    ChannelsMiddleware({ adapter: channelAdapter(cfg) } as never) as Middleware,
    ChannelBackoffMiddleware as unknown as Middleware,
    IdempotencyMiddleware as unknown as Middleware,
    WireSafeActions,
    DeadLetterReasonMiddleware as unknown as Middleware,
  ];
  // only the JSON logger reads the scope (request id and action on every line)
  if (cfg.logFormat === "json") middlewares.push(LogScopeMiddleware);

  const tracingExporter =
    cfg.tracingExporter === "zipkin"
      ? [{ type: "Zipkin", options: { baseURL: cfg.zipkinUrl } }]
      : cfg.tracingExporter === "console"
        ? [{ type: "Console", options: { width: 100 } }]
        : [];

  return {
    namespace: cfg.namespace,
    nodeID: cfg.nodeID ?? `${os.hostname()}-${process.pid}`,
    transporter: cfg.natsTransport
      ? { type: "NATS", options: natsConnectionOptions(cfg.natsTransport) }
      : (cfg.transporter ?? undefined),
    serializer: "JSON",
    cacher: cfg.redisUrl
      ? { type: "Redis", options: { prefix: `${cfg.namespace}-cache`, ttl: 300, redis: cfg.redisUrl } }
      // cached values are never mutated by callers, so no defensive deep clone on every hit
      : { type: "Memory", options: { ttl: 300, clone: false } },
    // JSON lines (pino) for machines, coloured console lines for people
    logger:
      cfg.logFormat === "json"
        ? new MallPinoLogger({ level: cfg.logLevel as never, pino: { options: { base: null } } as never })
        : { type: "Console", options: { level: cfg.logLevel, formatter: "short", moduleColors: true } },
    logLevel: cfg.logLevel as never,
    requestTimeout: cfg.requestTimeoutMs,
    retryPolicy: {
      enabled: true,
      retries: 3,
      delay: 100,
      maxDelay: 1000,
      factor: 2,
      // only infrastructure failures are retried; business errors are final
      check: (err: Error) => !!(err as { retryable?: boolean }).retryable,
    },
    circuitBreaker: {
      enabled: true,
      threshold: 0.5,
      windowTime: 60,
      minRequestCount: 20,
      halfOpenTime: 10_000,
      // a gateway answering "not ready" is healthy and telling the truth: tripping its breaker
      // would route /ready to another gateway
      check: (err: Error) => ((err as unknown as { code?: number }).code ?? 500) >= 500 && (err as unknown as { type?: string }).type !== "NOT_READY",
    },
    // bulkheads are declared per action where a stampede is expected (seckill purchase,
    // payment callbacks); a global one only adds a queue to every call
    bulkhead: { enabled: false, concurrency: 50, maxQueueSize: 500 },
    registry: { strategy: "RoundRobin", preferLocal: true },
    contextParamsCloning: false,
    maxCallLevel: 20,
    heartbeatInterval: 5,
    heartbeatTimeout: 15,
    validator: new StrictValidator(),
    metrics: {
      enabled: cfg.metricsPort !== null,
      reporter: cfg.metricsPort !== null ? [{ type: "Prometheus", options: { port: cfg.metricsPort, path: "/metrics" } }] : [],
    },
    tracing: { enabled: tracingExporter.length > 0, exporter: tracingExporter as never },
    // moleculer's own middlewares, listed by us only to swap its per-call request metrics for a
    // cheaper implementation of the same series (services/shared/request-metrics.ts)
    internalMiddlewares: false,
    middlewares: [...middlewares, ...(INTERNAL_MIDDLEWARES as Middleware[])],
    // graceful shutdown: a stopping service waits for its in-flight requests, up to 20 s
    // (moleculer 0.15 reads `tracking`; the older trackContext/gracefulStopTimeout are ignored)
    tracking: { enabled: true, shutdownTimeout: 20_000 },
    // services read their settings from here (configOf), so one process can host nodes with
    // different configurations (the test harness does)
    mall: cfg,
  } as BrokerOptions;
}

export default brokerOptions;
