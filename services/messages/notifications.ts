/**
 * From a business event to the messages it causes. Each handler names the fact (a key that is
 * the same however often the event arrives), who hears about it, and the variables of its
 * notification's templates; `tell` does the rest: contacts from users (one batched call, before
 * any transaction), the templates in effect, the readers' settings, then one transaction that
 * records the event id (`once`) and writes the inbox and delivery rows.
 */
import type { ServiceBroker } from "moleculer";
import type { Transaction } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { Locale } from "../../models/messages";
import { callAction } from "../shared/actions";
import type { InventoryLowEvent } from "../inventory/inventory.contracts";
import { CouponClaimedEvent, ExpiringCoupon, MarketingCalls } from "../marketing/marketing.contracts";
import { OrderCalls } from "../orders/orders.contracts";
import type { OrderCancelledEvent, OrderPaidEvent, OrderShippedEvent, RefundDecisionEvent } from "../orders/orders.contracts";
import type { PaymentRefundedEvent } from "../payments/payments.contracts";
import { UserCalls, UserContact } from "../users/users.contracts";
import type { Deliverer, Planned } from "./delivery";
import { NotificationKey, channelsOf, formatDate, formatMoney, templateCode } from "./domain/defaults";
import type { Vars } from "./domain/render";
import { MessageGroups, SeckillTicketEvent } from "./messages.contracts";
import type { TemplateStore } from "./template-store";

export interface NotifyHost {
  broker: ServiceBroker;
  logger: { info(m: string): void; warn(m: string): void; error(m: string): void };
  deliverer: Deliverer;
  templates: TemplateStore;
  /** absolute base of links in email and SMS */
  baseUrl: string;
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
}

export interface Notice {
  /** the fact told: rows are keyed `<key>:<user>:<channel>` */
  key: string;
  notification: NotificationKey;
  /** the users told, or every active operator and admin */
  to: number[] | "staff";
  link: string | null;
  /** the notification's variables for one reader (nickname, link and url are added) */
  vars(locale: Locale): Vars;
}

const orderLink = (orderNo: string) => `/orders/${encodeURIComponent(orderNo)}`;

/** Write the messages of `notice` once per `eventId` (a redelivery finds the id recorded). */
export async function tell(host: NotifyHost, eventId: string, notice: Notice): Promise<void> {
  if (await host.hasProcessed(MessageGroups.NOTIFY, eventId)) return;
  const users: UserContact[] =
    notice.to === "staff" ? await callAction(host.broker, UserCalls.staff, {}) : await callAction(host.broker, UserCalls.contacts, { ids: notice.to });
  if (notice.to !== "staff" && users.length < notice.to.length) {
    host.logger.warn(`${notice.key}: user ${notice.to.filter((id) => !users.some((u) => u.id === id)).join(", ")} not found; nobody told`);
  }
  const codes = channelsOf(notice.notification).map((c) => templateCode(notice.notification, c));
  const variants = [...(await host.templates.variantsOf(codes)).values()];
  const settings = await host.deliverer.settingsOf(users.map((u) => u.id));
  const items: Planned[] = users.map((u) => ({
    key: notice.key,
    user: u,
    templates: variants,
    link: notice.link,
    vars: { nickname: u.nickname || u.username, ...notice.vars(u.locale), link: notice.link, url: notice.link ? `${host.baseUrl}${notice.link}` : host.baseUrl },
  }));
  const plan = host.deliverer.plan(items, settings);
  await host.once(MessageGroups.NOTIFY, eventId, (t) => host.deliverer.write(t, plan));
}

const CANCEL_REASONS: Record<string, Record<Locale, string>> = {
  "payment timeout": { "zh-CN": "超时未支付，订单已自动取消", en: "it was not paid in time" },
  "cancelled by buyer": { "zh-CN": "您已取消该订单", en: "you cancelled it" },
};

export const notices = {
  orderPaid(d: OrderPaidEvent): Notice {
    return {
      key: `order.paid:${d.orderNo}`,
      notification: "order.paid",
      to: [Number(d.userId)],
      link: orderLink(d.orderNo),
      vars: () => ({ orderNo: d.orderNo, amount: formatMoney(Number(d.payable ?? d.amount), d.currency ?? "CNY") }),
    };
  },
  orderShipped(d: OrderShippedEvent): Notice {
    return {
      key: `order.shipped:${d.orderNo}`,
      notification: "order.shipped",
      to: [Number(d.userId)],
      link: orderLink(d.orderNo),
      vars: () => ({ orderNo: d.orderNo, carrier: d.carrier, trackingNo: d.trackingNo }),
    };
  },
  orderCancelled(d: OrderCancelledEvent): Notice {
    return {
      key: `order.cancelled:${d.orderNo}`,
      notification: "order.cancelled",
      to: [Number(d.userId)],
      link: orderLink(d.orderNo),
      vars: (locale) => ({ orderNo: d.orderNo, reason: CANCEL_REASONS[d.reason]?.[locale] ?? d.reason }),
    };
  },
  refundDecided(kind: "approved" | "rejected", d: RefundDecisionEvent): Notice {
    return {
      key: `refund.${kind}:${d.refundId}`,
      notification: kind === "approved" ? "refund.approved" : "refund.rejected",
      to: [Number(d.userId)],
      link: orderLink(d.orderNo),
      vars: () => ({ orderNo: d.orderNo, amount: formatMoney(Number(d.amount), d.currency), note: d.note ?? "" }),
    };
  },
  paymentRefunded(d: PaymentRefundedEvent, order: { userId: number; currency: string }): Notice {
    return {
      key: `payment.refunded:${d.refundNo}`,
      notification: "payment.refunded",
      to: [Number(order.userId)],
      link: orderLink(d.orderNo),
      vars: () => ({ orderNo: d.orderNo, amount: formatMoney(Number(d.amount), order.currency), refundNo: d.refundNo }),
    };
  },
  seckillTicket(d: SeckillTicketEvent): Notice {
    const won = d.status === "SUCCEEDED" && !!d.orderNo;
    return {
      key: `seckill.ticket:${d.ticket}:${d.status}`,
      notification: won ? "seckill.succeeded" : "seckill.failed",
      to: [Number(d.userId)],
      link: won ? orderLink(d.orderNo!) : `/seckill/${encodeURIComponent(String(d.eventId))}`,
      vars: (): Vars => (won ? { orderNo: d.orderNo!, eventTitle: d.eventTitle } : { eventTitle: d.eventTitle, reason: d.reason ?? "" }),
    };
  },
  couponClaimed(d: CouponClaimedEvent): Notice {
    return {
      key: `coupon.claimed:${d.couponId}`,
      notification: "coupon.claimed",
      to: [Number(d.userId)],
      link: "/account/coupons",
      vars: (locale) => ({ couponName: d.name, validTo: formatDate(d.validTo, locale) }),
    };
  },
  couponExpiring(c: ExpiringCoupon): Notice {
    return {
      key: `coupon.expiring:${c.couponId}`,
      notification: "coupon.expiring",
      to: [c.userId],
      link: "/account/coupons",
      vars: (locale) => ({ couponName: c.name, validTo: formatDate(c.validTo, locale) }),
    };
  },
  inventoryLow(eventId: string, d: InventoryLowEvent): Notice {
    return {
      key: `inventory.low:${eventId}`,
      notification: "inventory.low",
      to: "staff",
      link: `/admin/inventory/${d.skuId}`,
      vars: () => ({ skuId: d.skuId, available: d.available, threshold: d.threshold }),
    };
  },
};

/** A malformed message is logged and acknowledged: retrying cannot repair it. */
function malformed(host: NotifyHost, what: string, msg: unknown): void {
  host.logger.error(`${what}: malformed message, skipped: ${JSON.stringify(msg)?.slice(0, 500)}`);
}

const hasOrder = (d: unknown): d is { orderNo: string; userId: number } =>
  !!d && typeof (d as { orderNo?: unknown }).orderNo === "string" && Number((d as { userId?: unknown }).userId) > 0;

export async function onOrderEvent<T extends { orderNo: string; userId: number }>(host: NotifyHost, env: EventEnvelope<T>, make: (d: T) => Notice): Promise<void> {
  if (!env?.eventId || !hasOrder(env.data)) return malformed(host, env?.type ?? "order event", env);
  await tell(host, env.eventId, make(env.data));
}

export async function onPaymentRefunded(host: NotifyHost, env: EventEnvelope<PaymentRefundedEvent>): Promise<void> {
  const d = env?.data;
  if (!env?.eventId || typeof d?.orderNo !== "string" || typeof d.refundNo !== "string") return malformed(host, "payment.refunded", env);
  if (await host.hasProcessed(MessageGroups.NOTIFY, env.eventId)) return;
  const order = await callAction(host.broker, OrderCalls.getForPayment, { orderNo: d.orderNo });
  await tell(host, env.eventId, notices.paymentRefunded(d, order));
}

/**
 * seckill.ticket arrives as the bare payload or inside an outbox envelope; either way the fact is
 * the ticket and its outcome, which is also what makes it idempotent.
 */
export async function onSeckillTicket(host: NotifyHost, msg: SeckillTicketEvent | EventEnvelope<SeckillTicketEvent>): Promise<void> {
  const d = (msg && typeof msg === "object" && "data" in msg && msg.data && typeof msg.data === "object" ? msg.data : msg) as SeckillTicketEvent;
  if (!d || typeof d.ticket !== "string" || !(Number(d.userId) > 0) || (d.status !== "SUCCEEDED" && d.status !== "FAILED") || typeof d.eventTitle !== "string") {
    return malformed(host, "seckill.ticket", msg);
  }
  if (d.status === "SUCCEEDED" && typeof d.orderNo !== "string") return malformed(host, "seckill.ticket", msg);
  await tell(host, `seckill.ticket:${d.ticket}:${d.status}`, notices.seckillTicket(d));
}

export async function onCouponClaimed(host: NotifyHost, env: EventEnvelope<CouponClaimedEvent>): Promise<void> {
  const d = env?.data;
  if (!env?.eventId || !(Number(d?.couponId) > 0) || !(Number(d?.userId) > 0)) return malformed(host, "coupon.claimed", env);
  await tell(host, env.eventId, notices.couponClaimed(d));
}

export async function onInventoryLow(host: NotifyHost, env: EventEnvelope<InventoryLowEvent>): Promise<void> {
  const d = env?.data;
  if (!env?.eventId || !(Number(d?.skuId) > 0)) return malformed(host, "inventory.low", env);
  await tell(host, env.eventId, notices.inventoryLow(env.eventId, d));
}

/**
 * The daily reminder: coupons that end within COUPON_EXPIRY_NOTICE_HOURS, asked from marketing
 * page by page. Each coupon is told once (`coupon.expiring:<id>` is its fact), so the sweep may
 * run on every node and again after a restart.
 */
export async function sweepExpiringCoupons(host: NotifyHost, hours: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() + hours * 3_600_000).toISOString();
  let afterId = 0;
  let told = 0;
  for (;;) {
    const page = await callAction(host.broker, MarketingCalls.expiringCoupons, { before, afterId, limit: 200 });
    for (const c of page) {
      await tell(host, `coupon.expiring:${c.couponId}`, notices.couponExpiring(c));
      told++;
    }
    if (page.length < 200) return told;
    afterId = page[page.length - 1].couponId;
  }
}
