/**
 * Holds: what an order takes before it is paid (DESIGN.md "Holds"). Each is owned by the service
 * that owns the thing, keyed by the order number, with a `take` and a `give back` that are
 * idempotent both ways: stock (inventory.reserve / release), a coupon (marketing.lockCoupon /
 * releaseCoupon), frozen points (marketing.freezePoints / unfreezePoints).
 *
 * The create-order command takes them in one saga (services/shared/saga.ts) and then writes the
 * order; when a step fails, what was taken is given back in reverse. A take that failed without a
 * final answer (a timeout, a node gone) may still have happened, so it is given back too before
 * the error goes on. Once the order exists its holds are given back by the events it publishes
 * (`order.cancelled`) and made final by `order.paid`, never by these calls.
 */
import { bizError } from "../shared/errors";
import { runSaga } from "../shared/saga";
import { ABSENT_TYPES, marketingDown } from "./offers";
import type { OrderHolds, OrderLineItem, OrderSource } from "./orders.contracts";
import { callAction } from "../shared/actions";
import { MarketingCalls } from "../marketing/marketing.contracts";
import { InventoryCalls } from "../inventory/inventory.contracts";

export interface Hold {
  name: string;
  take(): Promise<unknown>;
  giveBack(): Promise<unknown>;
}

export type Caller = { call<T, P>(action: string, params: P): Promise<T> };

const errType = (err: unknown) => (err as { type?: string })?.type;
/** A typed 4xx: a final answer (nothing was taken), not an infrastructure failure. */
export const isFinalClientError = (err: unknown) => {
  const e = err as { code?: unknown; retryable?: boolean };
  // SERVICE_NOT_FOUND is a retryable 404: the service is down, not the thing asked for
  return typeof e?.code === "number" && e.code >= 400 && e.code < 500 && !e.retryable;
};

/** Marketing left between pricing and the hold: the buyer may retry once it is back. */
async function onMarketing<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (ABSENT_TYPES.has(errType(err) ?? "")) throw marketingDown();
    throw err;
  }
}

export function stockHold(ctx: Caller, orderNo: string, lines: OrderLineItem[], reason: string): Hold {
  return {
    name: "stock",
    async take() {
      try {
        return await callAction(ctx, InventoryCalls.reserve, { reference: orderNo, lines });
      } catch (err) {
        const type = errType(err);
        if (type === "INSUFFICIENT_STOCK" || type === "STOCK_NOT_FOUND") {
          const d = ((err as { data?: Record<string, unknown> }).data ?? {}) as { skuId?: number; requested?: number; available?: number };
          throw bizError("OUT_OF_STOCK", d.skuId ? `not enough stock for SKU ${d.skuId}` : undefined, {
            skuId: d.skuId,
            requested: d.requested ?? lines.find((l) => l.skuId === d.skuId)?.quantity,
            available: d.available ?? 0,
          });
        }
        throw err;
      }
    },
    async giveBack() {
      try {
        return await callAction(ctx, InventoryCalls.release, { reference: orderNo, reason });
      } catch (err) {
        if (errType(err) === "RESERVATION_NOT_FOUND") return;
        throw err;
      }
    },
  };
}

export function couponHold(ctx: Caller, orderNo: string, userId: number, couponId: number, reason: string): Hold {
  return {
    name: "coupon",
    take: () => onMarketing(() => callAction(ctx, MarketingCalls.lockCoupon, { userId, couponId, orderNo })),
    giveBack: () => onMarketing(() => callAction(ctx, MarketingCalls.releaseCoupon, { orderNo, reason })),
  };
}

export function pointsHold(ctx: Caller, orderNo: string, userId: number, points: number, reason: string): Hold {
  return {
    name: "points",
    take: () => onMarketing(() => callAction(ctx, MarketingCalls.freezePoints, { userId, points, orderNo })),
    giveBack: () => onMarketing(() => callAction(ctx, MarketingCalls.unfreezePoints, { orderNo, reason })),
  };
}

/**
 * The holds an order takes, in the order they are taken: stock, then what the offers use. A
 * flash sale's unit is taken before its order is written (seckill's Lua script) out of the sale's
 * own stock hold, so a SECKILL order takes no stock hold here; the seckill writer gives the unit
 * back itself when the order cannot be written.
 */
export function orderHolds(
  ctx: Caller,
  o: { orderNo: string; userId: number; lines: OrderLineItem[]; holds: OrderHolds; extra?: Hold[]; source?: OrderSource },
): Hold[] {
  const reason = "checkout failed";
  // a flash sale's unit already sits in the sale's own hold (seckill:<eventId>, taken when the
  // sale was published): the order takes no stock of its own
  const holds = o.source === "SECKILL" ? [] : [stockHold(ctx, o.orderNo, o.lines, reason)];
  if (o.holds.couponId !== null) holds.push(couponHold(ctx, o.orderNo, o.userId, o.holds.couponId, reason));
  if (o.holds.points > 0) holds.push(pointsHold(ctx, o.orderNo, o.userId, o.holds.points, reason));
  return [...holds, ...(o.extra ?? [])];
}

/**
 * Take every hold, then `write`; on any failure give back what was taken, in reverse, and
 * rethrow the failure. A give-back that fails is reported (the thing stays held until its owner's
 * reconciler frees it) and does not stop the others.
 */
export async function withHolds<T>(holds: Hold[], write: () => Promise<T>, onGiveBackError: (hold: string, err: unknown) => void): Promise<T> {
  let written!: T;
  await runSaga<null>(
    [
      ...holds.map((h) => ({
        name: h.name,
        run: async () => {
          try {
            await h.take();
          } catch (err) {
            // no final answer: the take may have happened all the same
            if (!isFinalClientError(err)) await h.giveBack().catch((e) => onGiveBackError(h.name, e));
            throw err;
          }
        },
        compensate: async () => void (await h.giveBack()),
      })),
      { name: "write-order", run: async () => void (written = await write()) },
    ],
    null,
    { onCompensationError: (step, err) => onGiveBackError(step, err) },
  );
  return written;
}
