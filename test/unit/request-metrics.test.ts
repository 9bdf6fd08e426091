import { Errors, INTERNAL_MIDDLEWARES as MOLECULER_INTERNAL, ServiceBroker } from "moleculer";
import type { Middleware } from "moleculer";
import { INTERNAL_MIDDLEWARES, RequestMetricsMiddleware, RequestSeries, requestMetricObjects } from "../../services/shared/request-metrics";
import { brokerOptions } from "../../moleculer.config";
import { parseConfig } from "../../services/shared/config";

type Snapshot = { name: string; values: Record<string, unknown>[] };

/** The request series of a registry, without what depends on the clock. */
function requestSeries(broker: ServiceBroker, opts: { histogramBuckets: boolean }) {
  const list = broker.metrics.list({ includes: ["moleculer.request.**"] }) as unknown as Snapshot[];
  return Object.fromEntries(
    list.map((m) => [
      m.name,
      m.values
        .map((v) => {
          const { timestamp: _t, rate: _r, sum: _s, lastValue: _l, min: _min, max: _max, mean: _mean, variance: _var, stdDev: _sd, median: _med, ...rest } = v as Record<string, unknown>;
          delete rest.quantiles;
          if (!opts.histogramBuckets) delete rest.buckets;
          return rest;
        })
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ]),
  );
}

const schema = {
  name: "probe",
  actions: {
    ok: () => "ok",
    slow: () => new Promise((r) => setTimeout(() => r("slow"), 5)),
    fail: () => {
      throw new Errors.MoleculerClientError("no", 422, "UNPROCESSABLE");
    },
    nested: (ctx: { call(a: string): Promise<unknown> }) => ctx.call("probe.ok"),
  },
};

/** Two nodes on moleculer's in-memory transporter: `caller` calls `probe` remotely and locally. */
async function exercise(middlewares: { internalMiddlewares?: boolean; middlewares?: unknown[] }, ns: string) {
  const common = { logger: false, transporter: "Fake", namespace: ns, metrics: { enabled: true, reporter: [] }, ...middlewares } as never;
  const server = new ServiceBroker({ ...(common as object), nodeID: "server" } as never);
  const caller = new ServiceBroker({ ...(common as object), nodeID: "caller" } as never);
  server.createService(schema);
  caller.createService({ name: "front", actions: { go: (ctx: { call(a: string): Promise<unknown> }) => ctx.call("probe.nested") } });
  await Promise.all([server.start(), caller.start()]);
  await caller.waitForServices("probe");
  await server.waitForServices("front");
  for (let i = 0; i < 3; i++) await caller.call("probe.ok");
  await caller.call("probe.slow");
  await Promise.all([1, 2].map(() => caller.call("probe.nested")));
  await expect(caller.call("probe.fail")).rejects.toThrow("no");
  await expect(server.call("probe.fail")).rejects.toThrow("no");
  await server.call("probe.ok");
  await server.call("front.go");
  await server.call("front.go");
  const out = { server: requestSeries(server, { histogramBuckets: false }), caller: requestSeries(caller, { histogramBuckets: false }) };
  await Promise.all([server.stop(), caller.stop()]);
  return out;
}

/** The transit gauges of the caller node after remote calls, one after another and ten at once. */
async function transitGauges(middlewares: { internalMiddlewares?: boolean; middlewares?: unknown[] }, ns: string) {
  const common = { logger: false, transporter: "Fake", namespace: ns, metrics: { enabled: true, reporter: [] }, ...middlewares } as never;
  const server = new ServiceBroker({ ...(common as object), nodeID: "server" } as never);
  const caller = new ServiceBroker({ ...(common as object), nodeID: "caller" } as never);
  server.createService(schema);
  await Promise.all([server.start(), caller.start()]);
  await caller.waitForServices("probe");
  const read = (name: string) => (caller.metrics.getMetric(name) as unknown as { values: Map<string, { value: number }> }).values.get("")?.value ?? 0;
  for (let i = 0; i < 20; i++) await caller.call("probe.ok");
  const afterSequential = read("moleculer.transit.requests.active");
  let during = 0;
  const slow = Promise.all(Array.from({ length: 10 }, () => caller.call("probe.slow")));
  await new Promise((r) => setImmediate(r));
  during = read("moleculer.transit.requests.active");
  await slow;
  const out = { afterSequential, during, after: read("moleculer.transit.requests.active"), streams: read("moleculer.transit.streams.send.active") };
  await Promise.all([server.stop(), caller.stop()]);
  return out;
}

describe("request metrics: moleculer's series, cheaper", () => {
  it("the transit's active requests gauge reads what is in flight, not a running sum", async () => {
    const ours = await transitGauges({ internalMiddlewares: false, middlewares: INTERNAL_MIDDLEWARES as Middleware[] }, "rm-transit-ours");
    expect(ours).toEqual({ afterSequential: 0, during: 10, after: 0, streams: 0 });
    // moleculer's own middleware adds the pending count on every packet published: it only grows
    const theirs = await transitGauges({}, "rm-transit-theirs");
    expect(theirs.after).toBeGreaterThanOrEqual(20);
  });

  it("the middleware list is moleculer's own, with only Metrics swapped", () => {
    expect(INTERNAL_MIDDLEWARES.map((m) => (typeof m === "string" ? m : "Metrics"))).toEqual(MOLECULER_INTERNAL);
    expect(INTERNAL_MIDDLEWARES.filter((m) => m === RequestMetricsMiddleware)).toHaveLength(1);
    const opts = brokerOptions(parseConfig({ METRICS_PORT: "off" } as NodeJS.ProcessEnv)) as { internalMiddlewares: boolean; middlewares: unknown[] };
    expect(opts.internalMiddlewares).toBe(false);
    expect(opts.middlewares.slice(-INTERNAL_MIDDLEWARES.length)).toEqual(INTERNAL_MIDDLEWARES);
  });

  it("the same calls leave the same counts, gauges, levels, errors and histogram counts as moleculer's middleware", async () => {
    const theirs = await exercise({}, "rm-theirs");
    const ours = await exercise({ internalMiddlewares: false, middlewares: INTERNAL_MIDDLEWARES as Middleware[] }, "rm-ours");
    expect(ours).toEqual(theirs);
    // and the comparison is not vacuous
    const total = (theirs.server["moleculer.request.total"] as { labels: Record<string, unknown>; value: number }[]).find(
      (v) => v.labels.action === "probe.ok" && v.labels.type === "local" && v.labels.caller === "probe",
    );
    expect(total?.value).toBe(4); // probe.nested twice from the caller node, twice through front.go
    expect(theirs.caller["moleculer.request.error.total"]).toHaveLength(1);
    expect((theirs.server["moleculer.request.levels"] as unknown[]).length).toBeGreaterThanOrEqual(3);
  });

  it("observations land in the same buckets, sums and quantiles as moleculer's histogram", async () => {
    const mk = () => {
      const b = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] } });
      return b;
    };
    const theirs = mk();
    const ours = mk();
    const labels = { service: "s", action: "s.a", caller: null, type: "local" };
    const samples = [0.2, 1, 1.0001, 4.9, 7, 30, 99.9, 250, 2600, 12_000];
    const time = theirs.metrics.getMetric("moleculer.request.time") as unknown as { observe(v: number, l: object): void };
    for (const v of samples) time.observe(v, labels);
    const series = new RequestSeries(requestMetricObjects(ours.metrics), labels);
    for (const v of samples) {
      series.start(1, Date.now());
      series.end(v, Date.now());
    }
    const pick = (b: ServiceBroker) => {
      const m = b.metrics.list({ includes: ["moleculer.request.time"] }) as unknown as Snapshot[];
      const { timestamp: _t, rate: _r, ...rest } = m[0].values[0];
      return rest;
    };
    expect(pick(ours)).toEqual(pick(theirs));
    expect((pick(ours) as { buckets: Record<string, number> }).buckets["5"]).toBe(4);
  });
});
