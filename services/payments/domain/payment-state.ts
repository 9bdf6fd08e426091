/**
 * Payment and refund rules as data and small pure functions (unit tested without a broker).
 * The service applies each transition with a compare-and-set on the status it expects.
 */
import crypto from "node:crypto";
import type { PaymentChannel, PaymentStatus, RefundStatus } from "../payments.contracts";

export const PAYMENT_TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  PENDING: ["SUCCEEDED", "FAILED", "CLOSED"],
  SUCCEEDED: [],
  FAILED: [],
  CLOSED: [],
};

export const REFUND_TRANSITIONS: Record<RefundStatus, readonly RefundStatus[]> = {
  PENDING: ["SUCCEEDED", "FAILED"],
  SUCCEEDED: [],
  FAILED: [],
};

export function canMove<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): boolean {
  return (table[from] ?? []).includes(to);
}

/** A payment status in which the order counts as having an open or successful payment. */
export function holdsOrder(status: PaymentStatus): boolean {
  return status === "PENDING" || status === "SUCCEEDED";
}

/** What a provider callback does to a payment in `status`. */
export function callbackEffect(status: PaymentStatus, result: "SUCCESS" | "FAIL"): { to: PaymentStatus } | null {
  const to: PaymentStatus = result === "SUCCESS" ? "SUCCEEDED" : "FAILED";
  return canMove(PAYMENT_TRANSITIONS, status, to) ? { to } : null;
}

export interface OrderView {
  userId: number;
  status: string;
  payable: number;
  expiresAt: string | null;
}

/** Order statuses that mean the order was paid (whatever happened after). */
const PAID_ORDER_STATUSES = ["PAID", "SHIPPED", "COMPLETED", "REFUNDING", "REFUNDED"];

/**
 * May `userId` open a payment for this order now? Another user's order is "not found" (no
 * existence leak); a paid order is "already paid"; a cancelled one is a state conflict (even if
 * a late payment for it was refunded); an open order whose payment window has passed (the sweeper
 * may not have cancelled it yet) or that has nothing to pay is "not payable".
 */
export function payability(
  order: OrderView | null,
  userId: number,
  now: number,
): "ok" | "ORDER_NOT_FOUND" | "ORDER_ALREADY_PAID" | "ORDER_STATE_CONFLICT" | "ORDER_NOT_PAYABLE" {
  if (!order || Number(order.userId) !== userId) return "ORDER_NOT_FOUND";
  if (PAID_ORDER_STATUSES.includes(order.status)) return "ORDER_ALREADY_PAID";
  if (order.status !== "PENDING_PAYMENT") return "ORDER_STATE_CONFLICT";
  if (order.expiresAt && Date.parse(order.expiresAt) <= now) return "ORDER_NOT_PAYABLE";
  if (!Number.isSafeInteger(order.payable) || order.payable <= 0) return "ORDER_NOT_PAYABLE";
  return "ok";
}

/** The channels a client may use: the sandbox only where SANDBOX_ENABLED. */
export function enabledChannels(sandboxEnabled: boolean): PaymentChannel[] {
  return sandboxEnabled ? ["sandbox", "wallet"] : ["wallet"];
}

/**
 * The order already has an open-or-paid payment (`existing`): what does a new request for
 * `channel` get? Paying twice is answered clearly, never with a second charge:
 * - the same channel while still PENDING → that same payment again (idempotent re-open);
 * - another channel while PENDING → PAYMENT_IN_PROGRESS (finish or fail the open one first);
 * - already SUCCEEDED → ORDER_ALREADY_PAID.
 */
export function onExistingPayment(existing: { status: PaymentStatus; channel: PaymentChannel }, channel: PaymentChannel): "reuse" | "PAYMENT_IN_PROGRESS" | "ORDER_ALREADY_PAID" {
  if (existing.status === "SUCCEEDED") return "ORDER_ALREADY_PAID";
  return existing.channel === channel ? "reuse" : "PAYMENT_IN_PROGRESS";
}

/** Amount still refundable on a payment. */
export function refundable(p: { status: PaymentStatus; amount: number; refundedAmount: number }): number {
  return p.status === "SUCCEEDED" ? Math.max(0, p.amount - p.refundedAmount) : 0;
}

/** `auto-<paymentNo>` → paymentNo (the automatic refund of a payment on a cancelled order). */
export function paymentNoOfAutoRefund(afterSalesId: string): string | null {
  const m = /^auto-(P[0-9a-z]+)$/.exec(afterSalesId);
  return m ? m[1] : null;
}

/**
 * Business numbers: a letter, the time in ms (so they sort by creation and are unique across
 * nodes together with the random tail) and 40 random bits, so they are not guessable in sequence.
 */
function businessNo(prefix: string, now = Date.now()): string {
  return `${prefix}${now.toString().padStart(13, "0")}${crypto.randomBytes(5).toString("hex")}`;
}
export const newPaymentNo = (now?: number) => businessNo("P", now);
export const newRefundNo = (now?: number) => businessNo("R", now);
/**
 * The sandbox opens one provider transaction per payment: completing the pay page twice (a
 * double click, two tabs) re-sends the same transaction, which the notify handler stores once.
 */
export const sandboxTxnId = (paymentNo: string) => `sbx_${paymentNo}`;
export const newNonce = () => crypto.randomBytes(16).toString("hex");
