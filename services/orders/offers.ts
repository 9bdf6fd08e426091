/**
 * The offers that apply to some lines, from marketing (`marketing.offers`): active promotions,
 * the buyer's coupon and points balance. Cart view, quote and checkout all get their offers here,
 * so they price with the same ones.
 *
 * The shop runs without marketing (a SERVICES list that leaves it out): then nothing is on
 * promotion and no coupon or points can be used. A request that asks for a coupon or points is
 * answered 503 SERVICE_UNAVAILABLE (retryable) rather than priced without them: charging the
 * buyer more than they asked to pay is not a silent fallback. Marketing answering with an error
 * (a coupon that is not theirs, a timeout) is that error.
 */
import { Errors, ServiceBroker } from "moleculer";
import { MarketingActions, OffersParams, OffersResult } from "../marketing/marketing.contracts";
import { bizError } from "../shared/errors";
import { NO_OFFERS, Offers, PriceInput } from "./domain/pricing";
import { callAction } from "../shared/actions";
import { MarketingCalls } from "../marketing/marketing.contracts";

export interface OfferRequest {
  userId: number;
  couponId?: number;
  usePoints?: number;
}

type Caller = { call<T, P>(action: string, params: P): Promise<T>; broker: ServiceBroker };

const errType = (err: unknown) => (err as { type?: string })?.type;

/** Is some node serving `marketing.offers` now? (Asking a missing service costs retries and a warning per call.) */
export const ABSENT_TYPES: ReadonlySet<string> = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE"]);

export function marketingAvailable(broker: ServiceBroker): boolean {
  return !!broker.registry.getActionEndpoints(MarketingActions.OFFERS)?.hasAvailable();
}

/**
 * 503 SERVICE_UNAVAILABLE (the client sees `retryable: true`). Not retryable between services:
 * the broker's retry policy would re-run the whole checkout three times for a service that is
 * not coming back within a second.
 */
export function marketingDown(data: Record<string, unknown> = {}): Errors.MoleculerError {
  return new Errors.MoleculerError("marketing is not running: coupons and points cannot be used right now", 503, "SERVICE_UNAVAILABLE", data);
}

/** Marketing is not running: fine without a coupon or points, a 503 with them. */
function withoutMarketing(req: OfferRequest): Offers {
  if (req.couponId !== undefined || (req.usePoints ?? 0) > 0) throw marketingDown({ couponId: req.couponId, usePoints: req.usePoints });
  return NO_OFFERS;
}

export async function fetchOffers(ctx: Caller, lines: readonly PriceInput[], req: OfferRequest): Promise<Offers> {
  if (!lines.length) return NO_OFFERS;
  if (!marketingAvailable(ctx.broker)) return withoutMarketing(req);
  const params: OffersParams = {
    userId: req.userId,
    ...(req.couponId !== undefined ? { couponId: req.couponId } : {}),
    productIds: [...new Set(lines.map((l) => l.productId))],
    categoryIds: [...new Set(lines.flatMap((l) => (l.categoryPath?.length ? l.categoryPath : [l.categoryId])))],
  };
  let res: OffersResult;
  try {
    res = await callAction(ctx, MarketingCalls.offers, params);
  } catch (err) {
    // the last marketing node left between the look and the call
    if (ABSENT_TYPES.has(errType(err) ?? "")) return withoutMarketing(req);
    throw err;
  }
  if (req.couponId !== undefined && res.coupon?.id !== req.couponId) throw bizError("COUPON_NOT_FOUND", undefined, { couponId: req.couponId });
  return { promotions: res.promotions, coupon: req.couponId !== undefined ? res.coupon : null, usePoints: req.usePoints ?? 0, pointsBalance: res.pointsBalance };
}
