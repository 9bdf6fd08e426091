/**
 * Request metrics at a fraction of the cost of moleculer's own Metrics middleware.
 *
 * moleculer's middleware builds four label objects on every call and hands each to the metric
 * registry, which hashes the labels into a string and looks the series up again for every one of
 * the five updates (requests total, active up, levels, the request-time histogram, active down).
 * Measured with sequential local calls that is ≈ 3.7 µs per call (0.3 µs with metrics off), and
 * an authenticated REST request makes two calls (`api.rest`, then the action): bench:gateway ran
 * about a sixth faster with metrics off altogether.
 *
 * This middleware keeps moleculer's metrics — the same names, labels, units, buckets, quantiles
 * and rates, registered by moleculer's own middleware, whose event, emit and transit hooks it
 * keeps unchanged — and replaces only the two action hooks: the series of an action are looked up
 * once per (caller, type) and then updated in place (≈ 1.7 µs per call). Most of what is left is
 * the histogram's bucket object, keyed by the bounds 1…10000 and so held in dictionary mode by
 * V8; it is moleculer's, and the reporter reads it. The unit test runs the same calls through
 * both middlewares and compares the registries.
 *
 * It depends on the shape of moleculer's metric items (value, rate, bucketValues, …). The
 * lockfile pins moleculer; the comparison test is what tells an upgrade whether that still holds.
 */
import { INTERNAL_MIDDLEWARES as MOLECULER_INTERNAL_MIDDLEWARES, METRIC, ServiceBroker } from "moleculer";
import * as Moleculer from "moleculer";
import type { Context, Middleware } from "moleculer";

type Labels = Record<string, string | number | null | undefined>;

interface GaugeItem {
  value: number;
  timestamp: number;
  rate?: { update(v: number): void };
}
interface HistogramItem {
  timestamp: number;
  sum: number;
  count: number;
  lastValue: number | null;
  bucketValues?: Record<string, number>;
  quantileValues?: { add(v: number): void };
  rate?: { update(v: number): void };
}
interface MetricObject {
  values: Map<string, unknown>;
  hashingLabels(labels: Labels | null): string;
  changed(value: unknown, labels: Labels, timestamp?: number): void;
  set?(value: number, labels: Labels, timestamp?: number): GaugeItem;
  observe?(value: number, labels: Labels, timestamp?: number): HistogramItem;
  buckets?: number[];
}
interface Registry {
  getMetric(name: string): MetricObject | null;
  increment(name: string, labels: Labels, value?: number): void;
  set(name: string, value: number, labels?: Labels): void;
}

/** The item of a gauge or counter series, created at 0 the first time. */
function gaugeItem(metric: MetricObject, labels: Labels): GaugeItem {
  const existing = metric.values.get(metric.hashingLabels(labels)) as GaugeItem | undefined;
  return existing ?? (metric.set!(0, labels) as GaugeItem);
}

export interface RequestMetricObjects {
  total: MetricObject;
  active: MetricObject;
  levels: MetricObject;
  time: MetricObject;
}

/** The request metrics moleculer's own middleware registered (its `created` hook). */
export function requestMetricObjects(metrics: unknown): RequestMetricObjects {
  const registry = metrics as Registry;
  const get = (name: string) => {
    const m = registry.getMetric(name);
    if (!m) throw new Error(`metric ${name} is not registered`);
    return m;
  };
  return {
    total: get(METRIC.MOLECULER_REQUEST_TOTAL),
    active: get(METRIC.MOLECULER_REQUEST_ACTIVE),
    levels: get(METRIC.MOLECULER_REQUEST_LEVELS),
    time: get(METRIC.MOLECULER_REQUEST_TIME),
  };
}

/** The series one (action, caller, type) updates on every call (exported for the unit test). */
export class RequestSeries {
  private readonly levels = new Map<number, GaugeItem>();
  private readonly levelLabels: Labels;
  private readonly total: GaugeItem;
  private readonly active: GaugeItem;
  private time: HistogramItem | null;

  constructor(
    private readonly m: RequestMetricObjects,
    private readonly labels: Labels,
  ) {
    this.levelLabels = { ...labels };
    this.total = gaugeItem(m.total, labels);
    this.active = gaugeItem(m.active, labels);
    const hash = m.time.hashingLabels(labels);
    this.time = (m.time.values.get(hash) as HistogramItem | undefined) ?? null;
  }

  start(level: number, now: number): void {
    const total = this.total;
    total.value += 1;
    total.timestamp = now;
    total.rate?.update(total.value);
    this.m.total.changed(total.value, this.labels, undefined);
    this.moveActive(1, now);
    let lvl = this.levels.get(level);
    if (!lvl) {
      this.levelLabels.level = level;
      lvl = gaugeItem(this.m.levels, this.levelLabels);
      this.levels.set(level, lvl);
    }
    lvl.value += 1;
    lvl.timestamp = now;
    lvl.rate?.update(lvl.value);
    this.m.levels.changed(lvl.value, this.levelLabels, undefined);
  }

  end(ms: number, now: number): void {
    const item = this.time;
    if (!item) {
      // the first observation creates the series (with its buckets, quantiles and rate)
      this.time = this.m.time.observe!(ms, this.labels);
    } else {
      item.timestamp = now;
      item.sum += ms;
      item.count++;
      item.lastValue = ms;
      const bv = item.bucketValues;
      if (bv) {
        const bounds = this.m.time.buckets!;
        for (let i = 0; i < bounds.length; i++) if (ms <= bounds[i]) bv[bounds[i]] += 1;
      }
      item.quantileValues?.add(ms);
      item.rate?.update(item.count);
      this.m.time.changed(ms, this.labels, undefined);
    }
    this.moveActive(-1, now);
  }

  private moveActive(delta: number, now: number): void {
    const active = this.active;
    active.value += delta;
    active.timestamp = now;
    active.rate?.update(active.value);
    this.m.active.changed(active.value, this.labels, undefined);
  }
}

export function RequestMetricsMiddleware(broker: ServiceBroker): Middleware {
  const base = ((Moleculer as unknown as { Middlewares: unknown }).Middlewares as { Metrics: (b: ServiceBroker) => Middleware & Record<string, unknown> }).Metrics.call(broker, broker);
  const registry = broker.metrics as unknown as Registry;
  let series: RequestMetricObjects | null = null;
  const seriesOf = () => (series ??= requestMetricObjects(registry));

  function wrap(type: "local" | "remote", action: { name: string; service?: { fullName: string } }, next: (ctx: Context) => Promise<unknown>) {
    const service = action.service ? action.service.fullName : null;
    const name = action.name;
    const byCaller = new Map<string | null, RequestSeries>();
    return function requestMetrics(ctx: Context) {
      const caller = (ctx as unknown as { caller: string | null }).caller ?? null;
      let bound = byCaller.get(caller);
      if (!bound) {
        bound = new RequestSeries(seriesOf(), { service, action: name, caller, type });
        byCaller.set(caller, bound);
      }
      const b = bound;
      const started = performance.now();
      b.start(ctx.level, Date.now());
      return next(ctx).then(
        (res) => {
          b.end(performance.now() - started, Date.now());
          return res;
        },
        (err: { name?: string; code?: unknown; type?: string } | null) => {
          b.end(performance.now() - started, Date.now());
          registry.increment(METRIC.MOLECULER_REQUEST_ERROR_TOTAL, {
            service,
            action: name,
            caller,
            type,
            errorName: err ? err.name : null,
            errorCode: err ? (err.code as number) : null,
            errorType: err ? err.type : null,
          });
          throw err;
        },
      );
    };
  }

  /** What the transit has in flight now: moleculer's middleware added it to the gauges instead. */
  type Transit = { pendingRequests: Map<unknown, unknown>; pendingReqStreams: Map<unknown, unknown>; pendingResStreams: Map<unknown, unknown> };
  const inFlight = (transit: Transit) => {
    registry.set(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE, transit.pendingRequests.size);
    registry.set(METRIC.MOLECULER_TRANSIT_STREAMS_SEND_ACTIVE, transit.pendingReqStreams.size + transit.pendingResStreams.size);
  };

  return {
    ...base,
    name: "Metrics",
    /*
     * moleculer's hook increments the "active requests" and "active sent streams" gauges by the
     * number pending on every packet published, so they only ever grow (2 sequential remote calls
     * read 2; a thousand, 1000). These set them to what is pending, after each packet published
     * and each packet received (a response removes its request).
     */
    transitPublish(this: Transit, next: (...a: unknown[]) => unknown) {
      if (!broker.isMetricsEnabled()) return next;
      const transit = this;
      return function publishMetrics(this: unknown, packet: { type: string }, ...rest: unknown[]) {
        registry.increment(METRIC.MOLECULER_TRANSIT_PUBLISH_TOTAL, { type: packet.type });
        const p = next.call(this, packet, ...rest);
        inFlight(transit);
        return p;
      };
    },
    transitMessageHandler(this: Transit, next: (...a: unknown[]) => unknown) {
      const counted = (base.transitMessageHandler as unknown as (this: Transit, n: typeof next) => typeof next).call(this, next);
      if (!broker.isMetricsEnabled()) return counted;
      const transit = this;
      return function receiveMetrics(this: unknown, ...args: unknown[]) {
        const p = counted.apply(this, args);
        inFlight(transit);
        return p;
      };
    },
    localAction(next: never, action: never) {
      return broker.isMetricsEnabled() ? wrap("local", action, next) : next;
    },
    remoteAction(next: never, action: never) {
      return broker.isMetricsEnabled() ? wrap("remote", action, next) : next;
    },
  } as unknown as Middleware;
}

/**
 * moleculer's internal middlewares, in moleculer's own order (its exported list), with its
 * Metrics replaced by ours. The broker is created with `internalMiddlewares: false` and these
 * appended after the user middlewares, which is where moleculer itself puts them. (moleculer's
 * `hotReload` option would add HotReload after them; the shop does not use it.)
 */
export const INTERNAL_MIDDLEWARES: (string | ((broker: ServiceBroker) => Middleware))[] = MOLECULER_INTERNAL_MIDDLEWARES.map((name) =>
  name === "Metrics" ? RequestMetricsMiddleware : name,
);
