/**
 * Idempotency-Key for every action that declares `idempotent: true` (README "Idempotent
 * requests"). A broker middleware, so it runs on the node where the action runs, whichever node
 * the gateway is on; the records live in the shared KV store (Redis in the cluster, process
 * memory embedded), keyed by (action, user, key).
 *
 * The first request claims the key with SET NX and runs the action; its answer (status, body,
 * response headers) replaces the claim and is replayed for 24 h with `Idempotent-Replayed: true`.
 * A duplicate that arrives while the first runs waits for its answer (bounded, then 409
 * IDEMPOTENCY_IN_PROGRESS); the same key with other params is 409 IDEMPOTENCY_CONFLICT. A failed
 * action — 4xx or 5xx — releases the key: our 4xx change nothing, so running the request again
 * is safe and answers with what is true now (the same choice as orders' own checkout keys).
 *
 * Only the call the gateway made carries the key: nested calls inherit `ctx.meta` and are not
 * wrapped again.
 */
import crypto from "node:crypto";
import type { ActionHandler, ActionSchema, Context, Middleware, ServiceBroker } from "moleculer";
import { configOf } from "../services/shared/config";
import { bizError, retryableError } from "../services/shared/errors";
import {
  Answer,
  CLAIM_LEASE_MS,
  KEY_TTL_MS,
  classify,
  doneRecord,
  duplicateWaitMs,
  pendingRecord,
  recordKey,
  replayHeaders,
  requestHash,
} from "../services/shared/idempotency";
import { KvStore, acquireKv, releaseKv } from "../services/shared/kv";

/** The gateway's service name: the caller of every action it routes a request to. */
const GATEWAY = "api";

interface IdemMeta {
  user?: { id: number } | null;
  idempotencyKey?: string;
  $statusCode?: number;
  $responseHeaders?: Record<string, string>;
  $location?: string;
}

/** moleculer binds handlers to their service before middlewares wrap them */
type Handler = (ctx: Context<unknown, IdemMeta>) => Promise<unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function IdempotencyMiddleware(broker: ServiceBroker): Middleware {
  const cfg = configOf({ broker });
  const logger = broker.getLogger("idempotency");
  let kv: KvStore | null = null;
  const store = () => (kv ??= acquireKv(cfg.redisUrl, cfg.namespace));
  const waitMs = duplicateWaitMs(cfg.requestTimeoutMs);

  /** KV trouble before the action ran: nothing happened, so the client may simply retry. */
  const unavailable = (err: unknown) => retryableError(`idempotency store unavailable: ${(err as Error)?.message ?? err}`);

  async function run(action: string, next: Handler, ctx: Context<unknown, IdemMeta>, key: string): Promise<unknown> {
    const k = recordKey(action, ctx.meta.user?.id, key);
    const hash = requestHash(ctx.params);
    const claim = pendingRecord(hash, crypto.randomUUID());
    const deadline = Date.now() + waitMs;
    for (;;) {
      const won = await store().setNx(k, claim, CLAIM_LEASE_MS).catch((err) => Promise.reject(unavailable(err)));
      if (won) return execute(k, hash, claim, next, ctx);
      const verdict = classify(await store().get(k).catch((err) => Promise.reject(unavailable(err))), hash);
      if (verdict.kind === "conflict") throw bizError("IDEMPOTENCY_CONFLICT");
      if (verdict.kind === "replay") return replay(ctx, verdict.answer);
      if (verdict.kind === "wait") {
        if (Date.now() > deadline) throw bizError("IDEMPOTENCY_IN_PROGRESS");
        await sleep(25 + Math.random() * 75);
      }
      // "claimable": the holder failed and let go, or its lease lapsed — claim it again
    }
  }

  async function execute(k: string, hash: string, claim: string, next: Handler, ctx: Context<unknown, IdemMeta>): Promise<unknown> {
    let body: unknown;
    try {
      body = await next(ctx);
    } catch (err) {
      await store()
        .delIf(k, claim)
        .catch((e) => logger.error(`could not release Idempotency-Key ${k} (it lapses in ${CLAIM_LEASE_MS} ms): ${(e as Error)?.message ?? e}`));
      throw err;
    }
    const answer: Answer = {
      status: ctx.meta.$statusCode ?? 200,
      body,
      ...(ctx.meta.$responseHeaders ? { headers: ctx.meta.$responseHeaders } : {}),
      ...(ctx.meta.$location ? { location: ctx.meta.$location } : {}),
    };
    // the client has its answer whatever happens here; a lost record only means a retry after
    // the lease runs the request again
    try {
      const stored = await store().replaceIf(k, claim, doneRecord(hash, answer), KEY_TTL_MS);
      if (!stored) logger.warn(`Idempotency-Key ${k}: the claim lapsed before the action finished (over ${CLAIM_LEASE_MS} ms); its answer is not remembered`);
    } catch (e) {
      logger.error(`could not store the answer of Idempotency-Key ${k}: ${(e as Error)?.message ?? e}`);
    }
    return body;
  }

  function replay(ctx: Context<unknown, IdemMeta>, answer: Answer): unknown {
    ctx.meta.$statusCode = answer.status;
    ctx.meta.$responseHeaders = replayHeaders(answer);
    if (answer.location) ctx.meta.$location = answer.location;
    return answer.body;
  }

  return {
    name: "Idempotency",
    localAction(next: ActionHandler, action: ActionSchema) {
      if (!action.idempotent) return next;
      const name = action.name as string;
      const handler = next as unknown as Handler;
      return ((ctx: Context<unknown, IdemMeta>) => {
        const key = ctx.meta.idempotencyKey;
        if (!key || ctx.caller !== GATEWAY) return handler(ctx);
        return run(name, handler, ctx, key);
      }) as unknown as ActionHandler;
    },
    async stopped() {
      if (kv) await releaseKv(cfg.redisUrl, cfg.namespace);
      kv = null;
    },
  };
}
