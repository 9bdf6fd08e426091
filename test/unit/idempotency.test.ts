/**
 * Idempotency-Key: the pure rules (services/shared/idempotency.ts), and the middleware on one
 * broker without a transporter (mixins/idempotency.middleware.ts), with a stand-in "api" service
 * that calls actions the way the gateway does (key in ctx.meta, answer read back from ctx.meta).
 */
import crypto from "node:crypto";
import { Context, Errors, ServiceBroker } from "moleculer";
import { IdempotencyMiddleware } from "../../mixins/idempotency.middleware";
import { parseConfig } from "../../services/shared/config";
import { bizError, retryableError } from "../../services/shared/errors";
import {
  CLAIM_LEASE_MS,
  KEY_TTL_MS,
  canonicalJson,
  classify,
  doneRecord,
  duplicateWaitMs,
  pendingRecord,
  recordKey,
  replayHeaders,
  requestHash,
} from "../../services/shared/idempotency";
import { MemoryKv } from "../../services/shared/kv";

describe("Idempotency-Key rules", () => {
  it("fingerprints params independent of key order, but not of values or array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(requestHash({ name: "x", parentId: 1 })).toBe(requestHash({ parentId: 1, name: "x" }));
    expect(requestHash({ name: "x", sort: undefined })).toBe(requestHash({ name: "x" }));
    expect(requestHash({ name: "x" })).not.toBe(requestHash({ name: "y" }));
    expect(requestHash({ id: 1, skuCode: "A" })).not.toBe(requestHash({ id: 2, skuCode: "A" }));
    expect(requestHash({ images: ["a", "b"] })).not.toBe(requestHash({ images: ["b", "a"] }));
  });

  it("scopes a key to its action and user; no user is 'anon'", () => {
    expect(recordKey("users.createAddress", 7, "k1")).toBe("idem:users.createAddress:7:k1");
    expect(recordKey("users.createAddress", 8, "k1")).not.toBe(recordKey("users.createAddress", 7, "k1"));
    expect(recordKey("catalog.createBrand", 7, "k1")).not.toBe(recordKey("users.createAddress", 7, "k1"));
    expect(recordKey("x.y", undefined, "k")).toBe("idem:x.y:anon:k");
  });

  it("classifies what a request finds under its key", () => {
    expect(classify(null, "h")).toEqual({ kind: "claimable" });
    expect(classify(pendingRecord("h", "t"), "h")).toEqual({ kind: "wait" });
    expect(classify(pendingRecord("h", "t"), "other")).toEqual({ kind: "conflict" });
    const done = doneRecord("h", { status: 201, body: { id: 5 }, headers: { Location: "/x/5" } });
    expect(classify(done, "h")).toEqual({ kind: "replay", answer: { status: 201, body: { id: 5 }, headers: { Location: "/x/5" } } });
    expect(classify(doneRecord("h", { status: 200, body: null }), "h")).toEqual({ kind: "replay", answer: { status: 200, body: null } });
    expect(classify(done, "other")).toEqual({ kind: "conflict" });
  });

  it("marks replays and keeps the first answer's headers", () => {
    expect(replayHeaders({ status: 201, body: 1 })).toEqual({ "Idempotent-Replayed": "true" });
    expect(replayHeaders({ status: 201, body: 1, headers: { Location: "/a" } })).toEqual({ Location: "/a", "Idempotent-Replayed": "true" });
  });

  it("a duplicate waits inside the caller's timeout; answers live 24 h, claims a minute", () => {
    expect(duplicateWaitMs(10_000)).toBe(8_000);
    expect(duplicateWaitMs(2_000)).toBe(1_600);
    expect(duplicateWaitMs(0)).toBe(8_000);
    expect(KEY_TTL_MS).toBe(24 * 3600_000);
    expect(CLAIM_LEASE_MS).toBeGreaterThan(10_000);
  });

  it("the memory store's compare-and-set and compare-and-delete only act on the expected value", async () => {
    const kv = new MemoryKv();
    try {
      await kv.set("k", "a", 60_000);
      expect(await kv.replaceIf("k", "b", "c", 60_000)).toBe(false);
      expect(await kv.replaceIf("k", "a", "c", 60_000)).toBe(true);
      expect(await kv.get("k")).toBe("c");
      expect(await kv.delIf("k", "a")).toBe(false);
      expect(await kv.delIf("k", "c")).toBe(true);
      expect(await kv.get("k")).toBeNull();
      expect(await kv.replaceIf("k", "c", "d", 60_000)).toBe(false);
    } finally {
      await kv.close();
    }
  });
});

interface Answer {
  data: any;
  status?: number;
  headers?: Record<string, string>;
}

describe("idempotency middleware (one broker)", () => {
  let broker: ServiceBroker;
  let runs = 0;
  let failNext: Error | null = null;
  let gate: Promise<void> | null = null;
  let openGate = () => {};

  /** What the gateway does: key and user in meta, call the action, read status and headers back. */
  const viaGateway = (action: string, params: object, meta: { key?: string; userId?: number }) =>
    broker.call<Answer, object>("api.call", { action, params }, { meta: { idempotencyKey: meta.key, user: meta.userId ? { id: meta.userId } : undefined } });

  beforeEach(async () => {
    runs = 0;
    failNext = null;
    gate = null;
    const cfg = parseConfig({ NAMESPACE: `u${crypto.randomBytes(4).toString("hex")}`, REQUEST_TIMEOUT: "1000" });
    broker = new ServiceBroker({ logger: false, middlewares: [IdempotencyMiddleware as never], mall: cfg } as never);
    broker.createService({
      name: "things",
      actions: {
        create: {
          idempotent: true,
          params: { name: "string" },
          async handler(ctx: Context<{ name: string }, { $statusCode?: number }>) {
            runs++;
            if (gate) await gate;
            if (failNext) {
              const err = failNext;
              failNext = null;
              throw err;
            }
            ctx.meta.$statusCode = 201;
            return { id: runs, name: ctx.params.name };
          },
        },
        createOther: {
          idempotent: true,
          async handler() {
            runs++;
            return { other: runs };
          },
        },
        plain: {
          async handler() {
            runs++;
            return { plain: runs };
          },
        },
        // a create that calls another create inheriting the request's meta (and its key)
        outer: {
          async handler(ctx: Context) {
            return [await ctx.call("things.create", { name: "a" }), await ctx.call("things.create", { name: "b" })];
          },
        },
      },
    });
    broker.createService({
      name: "api",
      actions: {
        call: {
          async handler(ctx: Context<{ action: string; params: object }, Record<string, unknown>>) {
            const data = await ctx.call(ctx.params.action, ctx.params.params);
            return { data, status: ctx.meta.$statusCode, headers: ctx.meta.$responseHeaders };
          },
        },
      },
    });
    await broker.start();
  });

  afterEach(() => {
    openGate();
    return broker.stop();
  });

  it("without a key every request runs", async () => {
    await viaGateway("things.create", { name: "x" }, { userId: 1 });
    await viaGateway("things.create", { name: "x" }, { userId: 1 });
    expect(runs).toBe(2);
  });

  it("the same key replays the first status and body, marked as replayed", async () => {
    const first = await viaGateway("things.create", { name: "x" }, { key: "k1", userId: 1 });
    const again = await viaGateway("things.create", { name: "x" }, { key: "k1", userId: 1 });
    expect(runs).toBe(1);
    expect(first).toEqual({ data: { id: 1, name: "x" }, status: 201 });
    expect(again).toEqual({ data: { id: 1, name: "x" }, status: 201, headers: { "Idempotent-Replayed": "true" } });
  });

  it("15 identical requests at once run the action once and all get its answer", async () => {
    const all = await Promise.all(Array.from({ length: 15 }, () => viaGateway("things.create", { name: "x" }, { key: "k-burst", userId: 1 })));
    expect(runs).toBe(1);
    expect(new Set(all.map((a) => JSON.stringify(a.data)))).toEqual(new Set([JSON.stringify({ id: 1, name: "x" })]));
    expect(all.every((a) => a.status === 201)).toBe(true);
    expect(all.filter((a) => a.headers?.["Idempotent-Replayed"] === "true")).toHaveLength(14);
  });

  it("the same key with other params is IDEMPOTENCY_CONFLICT, and nothing runs", async () => {
    await viaGateway("things.create", { name: "x" }, { key: "k2", userId: 1 });
    await expect(viaGateway("things.create", { name: "y" }, { key: "k2", userId: 1 })).rejects.toMatchObject({ type: "IDEMPOTENCY_CONFLICT", code: 409 });
    expect(runs).toBe(1);
  });

  it("keys are per user and per action", async () => {
    await viaGateway("things.create", { name: "x" }, { key: "k3", userId: 1 });
    const other = await viaGateway("things.create", { name: "x" }, { key: "k3", userId: 2 });
    const otherAction = await viaGateway("things.createOther", {}, { key: "k3", userId: 1 });
    expect(runs).toBe(3);
    expect(other.headers).toBeUndefined();
    expect(otherAction).toEqual({ data: { other: 3 }, status: undefined, headers: undefined });
  });

  it("a failed request (4xx or 5xx) releases the key: the retry runs and its answer is kept", async () => {
    failNext = bizError("NOT_FOUND");
    await expect(viaGateway("things.create", { name: "x" }, { key: "k4", userId: 1 })).rejects.toMatchObject({ type: "NOT_FOUND" });
    failNext = retryableError("down");
    await expect(viaGateway("things.create", { name: "x" }, { key: "k4", userId: 1 })).rejects.toMatchObject({ type: "SERVICE_UNAVAILABLE" });
    const ok = await viaGateway("things.create", { name: "x" }, { key: "k4", userId: 1 });
    expect(ok).toEqual({ data: { id: 3, name: "x" }, status: 201 });
    const replay = await viaGateway("things.create", { name: "x" }, { key: "k4", userId: 1 });
    expect(replay.headers).toEqual({ "Idempotent-Replayed": "true" });
    expect(runs).toBe(3);
  });

  it("a duplicate that outwaits the first request gets IDEMPOTENCY_IN_PROGRESS; afterwards it replays", async () => {
    gate = new Promise((r) => (openGate = r));
    const first = viaGateway("things.create", { name: "x" }, { key: "k5", userId: 1 });
    // REQUEST_TIMEOUT 1000 → a duplicate waits 800 ms for the first answer
    await expect(viaGateway("things.create", { name: "x" }, { key: "k5", userId: 1 })).rejects.toMatchObject({ type: "IDEMPOTENCY_IN_PROGRESS", code: 409 });
    openGate();
    expect((await first).status).toBe(201);
    expect((await viaGateway("things.create", { name: "x" }, { key: "k5", userId: 1 })).headers).toEqual({ "Idempotent-Replayed": "true" });
    expect(runs).toBe(1);
  });

  it("only the call the gateway made is keyed: nested calls that inherit the key run normally", async () => {
    const r = await viaGateway("things.outer", {}, { key: "k6", userId: 1 });
    expect(r.data).toEqual([
      { id: 1, name: "a" },
      { id: 2, name: "b" },
    ]);
    // and a direct call (REPL, another service) with the key in meta is not keyed either
    await broker.call("things.create", { name: "a" }, { meta: { idempotencyKey: "k6", user: { id: 1 } } });
    expect(runs).toBe(3);
  });

  it("actions that do not declare idempotent ignore the key", async () => {
    await viaGateway("things.plain", {}, { key: "k7", userId: 1 });
    await viaGateway("things.plain", {}, { key: "k7", userId: 1 });
    expect(runs).toBe(2);
  });

  it("a request refused by validation does not use up the key", async () => {
    await expect(viaGateway("things.create", { name: 5 }, { key: "k8", userId: 1 })).rejects.toBeInstanceOf(Errors.ValidationError);
    expect((await viaGateway("things.create", { name: "x" }, { key: "k8", userId: 1 })).status).toBe(201);
    expect(runs).toBe(1);
  });
});
