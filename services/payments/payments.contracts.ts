/**
 * What other services may call on `payments`, what payments calls on others, and what it
 * publishes. Channel payloads are the `data` of the outbox envelope
 * `{ eventId, type, occurredAt, producer, data }` (mixins/outbox.mixin.ts).
 */
import type { PaymentChannel, PaymentStatus, RefundStatus } from "../../models/payments";
import { s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";

export type { PaymentChannel, PaymentStatus, RefundStatus };

/** Durable channels (outbox → @moleculer/channels). */
export const PaymentEvents = {
  SUCCEEDED: "payment.succeeded",
  FAILED: "payment.failed",
  REFUNDED: "payment.refunded",
} as const;

export const PaymentActions = {
  REFUND: "payments.refund",
  NOTIFY_SANDBOX: "payments.notifySandbox",
} as const;

/** Reference formats on the wallet ledger (idempotency keys of users.walletDebit/Credit). */
export const walletPayReference = (paymentNo: string) => `pay:${paymentNo}`;
export const walletRefundReference = (refundNo: string) => `refund:${refundNo}`;
/** afterSalesId of the automatic refund of a payment that landed on a cancelled/expired order. */
export const autoRefundId = (paymentNo: string) => `auto-${paymentNo}`;

/** orders.getForPayment (internal): its contract is orders' (type-only: orders.contracts imports this file at run time). */
export type { GetForPaymentParams as OrderForPaymentParams, OrderForPayment } from "../orders/orders.contracts";

/** POST /payments */
export interface CreatePaymentParams {
  orderNo: string;
  channel: PaymentChannel;
}

export interface RefundDto {
  refundNo: string;
  paymentNo: string;
  orderNo: string;
  afterSalesId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  failureReason: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface PaymentDto {
  paymentNo: string;
  orderNo: string;
  userId: number;
  channel: PaymentChannel;
  amount: number;
  currency: string;
  status: PaymentStatus;
  refundedAmount: number;
  failureReason: string | null;
  paidAt: string | null;
  createdAt: string;
  /** sandbox only: where the buyer completes the payment */
  payUrl?: string;
  refunds?: RefundDto[];
}

/**
 * payments.refund (internal; orders calls it when an after-sales request is approved, and with
 * `afterSalesId: autoRefundId(paymentNo)` when a payment lands on a cancelled order).
 * Idempotent per afterSalesId: the same id again returns the same refund; the same id with a
 * different order or amount is REFUND_CONFLICT. `paymentNo` is optional: by default the order's
 * successful payment is refunded (for `auto-<paymentNo>` ids, that payment).
 */
export interface RefundParams {
  orderNo: string;
  afterSalesId: string;
  amount: number;
  reason: string;
  paymentNo?: string;
}
export interface RefundResult {
  refundNo: string;
  status: RefundStatus;
}

/** The sandbox provider's callback body (POST /payments/notify/sandbox). */
export interface SandboxCallback {
  paymentNo: string;
  providerTxnId: string;
  amount: number;
  currency: string;
  result: "SUCCESS" | "FAIL";
  /** ISO-8601 UTC */
  timestamp: string;
  nonce: string;
}

/** `data` of the payment.succeeded envelope. */
export interface PaymentSucceededEvent {
  paymentNo: string;
  orderNo: string;
  userId: number;
  amount: number;
  currency: string;
  channel: PaymentChannel;
  providerTxnId: string;
}
/** `data` of the payment.failed envelope. */
export interface PaymentFailedEvent {
  paymentNo: string;
  orderNo: string;
  userId: number;
  reason: string;
}
/** `data` of the payment.refunded envelope. */
export interface PaymentRefundedEvent {
  refundNo: string;
  paymentNo: string;
  orderNo: string;
  amount: number;
  afterSalesId: string;
}

/** POST /payments/notify/sandbox */
export interface NotifyResult {
  received: boolean;
  /** the provider transaction had been recorded before: nothing changed */
  duplicate: boolean;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const money = s.money();
const paymentNo = s.string();

export const RefundSchema = schemaOf<RefundDto>()(
  s.named(
    "Refund",
    s.object({
      refundNo: s.string(),
      paymentNo,
      orderNo: s.string(),
      afterSalesId: s.string(),
      amount: money,
      currency: s.string(),
      status: s.enum(["PENDING", "SUCCEEDED", "FAILED"]),
      reason: s.string(),
      failureReason: s.nullable(s.string()),
      createdAt: s.dateTime(),
      completedAt: s.nullable(s.dateTime()),
    }),
  ),
);

export const PaymentChannelsSchema = schemaOf<{ channels: PaymentChannel[] }>()(s.object({ channels: s.array(s.enum(["sandbox", "wallet"] as const)) }));

export const PaymentSchema = schemaOf<PaymentDto>()(
  s.named(
    "Payment",
    s.object(
      {
        paymentNo,
        orderNo: s.string(),
        userId: s.integer(),
        channel: s.enum(["sandbox", "wallet"]),
        amount: money,
        currency: s.string(),
        status: s.enum(["PENDING", "SUCCEEDED", "FAILED", "CLOSED"]),
        refundedAmount: money,
        failureReason: s.nullable(s.string()),
        paidAt: s.nullable(s.dateTime()),
        createdAt: s.dateTime(),
      },
      { payUrl: s.string({ description: "sandbox, while PENDING: where the buyer completes the payment" }), refunds: s.array(RefundSchema) },
    ),
  ),
);

export const SandboxCallbackSchema = schemaOf<SandboxCallback>()(
  s.named(
    "SandboxCallback",
    s.object({
      paymentNo,
      providerTxnId: s.string(),
      amount: money,
      currency: s.string(),
      result: s.enum(["SUCCESS", "FAIL"]),
      timestamp: s.dateTime(),
      nonce: s.string(),
    }),
  ),
);

export const NotifyResultSchema = schemaOf<NotifyResult>()(s.object({ received: s.boolean(), duplicate: s.boolean() }));

/** Typed descriptors of payments' internal actions (services/shared/actions.ts). */
export const PaymentCalls = {
  refund: action<RefundParams, RefundResult>(PaymentActions.REFUND),
} as const;
