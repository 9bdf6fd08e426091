/** Payment and refund rules: transitions, callback effects, payability, paying twice, refundable. */
import {
  PAYMENT_TRANSITIONS,
  REFUND_TRANSITIONS,
  callbackEffect,
  canMove,
  holdsOrder,
  newPaymentNo,
  newRefundNo,
  onExistingPayment,
  enabledChannels,
  payability,
  paymentNoOfAutoRefund,
  refundable,
} from "../../services/payments/domain/payment-state";
import type { PaymentStatus } from "../../services/payments/payments.contracts";

describe("payment state machine", () => {
  it("only PENDING moves, and only to a final state", () => {
    expect(canMove(PAYMENT_TRANSITIONS, "PENDING", "SUCCEEDED")).toBe(true);
    expect(canMove(PAYMENT_TRANSITIONS, "PENDING", "FAILED")).toBe(true);
    expect(canMove(PAYMENT_TRANSITIONS, "PENDING", "CLOSED")).toBe(true);
    for (const from of ["SUCCEEDED", "FAILED", "CLOSED"] as PaymentStatus[]) {
      for (const to of Object.keys(PAYMENT_TRANSITIONS) as PaymentStatus[]) expect(canMove(PAYMENT_TRANSITIONS, from, to)).toBe(false);
    }
    expect(canMove(REFUND_TRANSITIONS, "PENDING", "SUCCEEDED")).toBe(true);
    expect(canMove(REFUND_TRANSITIONS, "SUCCEEDED", "FAILED")).toBe(false);
    expect(canMove(REFUND_TRANSITIONS, "FAILED", "SUCCEEDED")).toBe(false);
  });

  it("a callback applies to a PENDING payment only", () => {
    expect(callbackEffect("PENDING", "SUCCESS")).toEqual({ to: "SUCCEEDED" });
    expect(callbackEffect("PENDING", "FAIL")).toEqual({ to: "FAILED" });
    expect(callbackEffect("SUCCEEDED", "SUCCESS")).toBeNull();
    expect(callbackEffect("SUCCEEDED", "FAIL")).toBeNull();
    expect(callbackEffect("FAILED", "SUCCESS")).toBeNull();
  });

  it("PENDING and SUCCEEDED hold the order; FAILED and CLOSED free it", () => {
    expect(["PENDING", "SUCCEEDED", "FAILED", "CLOSED"].map((s) => holdsOrder(s as PaymentStatus))).toEqual([true, true, false, false]);
  });
});

describe("payability", () => {
  const now = Date.parse("2026-11-21T05:00:00Z");
  const order = { userId: 7, status: "PENDING_PAYMENT", payable: 1000, expiresAt: "2026-11-21T05:15:00Z" };
  it("the owner may pay a pending, unexpired order", () => {
    expect(payability(order, 7, now)).toBe("ok");
  });
  it("someone else's or a missing order is not found", () => {
    expect(payability(order, 8, now)).toBe("ORDER_NOT_FOUND");
    expect(payability(null, 7, now)).toBe("ORDER_NOT_FOUND");
  });
  it("a paid order is already paid, whatever happened to it since", () => {
    for (const status of ["PAID", "SHIPPED", "COMPLETED", "REFUNDING", "REFUNDED"]) expect(payability({ ...order, status }, 7, now)).toBe("ORDER_ALREADY_PAID");
  });
  it("a cancelled order is a state conflict", () => {
    expect(payability({ ...order, status: "CANCELLED" }, 7, now)).toBe("ORDER_STATE_CONFLICT");
  });
  it("an expired or free pending order is not payable", () => {
    expect(payability({ ...order, expiresAt: "2026-11-21T05:00:00Z" }, 7, now)).toBe("ORDER_NOT_PAYABLE");
    expect(payability({ ...order, payable: 0 }, 7, now)).toBe("ORDER_NOT_PAYABLE");
  });
});

describe("channels", () => {
  it("the sandbox is offered only where it is enabled; the wallet always", () => {
    expect(enabledChannels(true)).toEqual(["sandbox", "wallet"]);
    expect(enabledChannels(false)).toEqual(["wallet"]);
  });
});

describe("paying twice", () => {
  it("the same channel reuses the open payment; another channel or a paid order is refused", () => {
    expect(onExistingPayment({ status: "PENDING", channel: "sandbox" }, "sandbox")).toBe("reuse");
    expect(onExistingPayment({ status: "PENDING", channel: "wallet" }, "wallet")).toBe("reuse");
    expect(onExistingPayment({ status: "PENDING", channel: "sandbox" }, "wallet")).toBe("PAYMENT_IN_PROGRESS");
    expect(onExistingPayment({ status: "SUCCEEDED", channel: "sandbox" }, "sandbox")).toBe("ORDER_ALREADY_PAID");
    expect(onExistingPayment({ status: "SUCCEEDED", channel: "sandbox" }, "wallet")).toBe("ORDER_ALREADY_PAID");
  });
});

describe("refunds", () => {
  it("refundable is what was paid minus what was refunded, and nothing unless SUCCEEDED", () => {
    expect(refundable({ status: "SUCCEEDED", amount: 1000, refundedAmount: 0 })).toBe(1000);
    expect(refundable({ status: "SUCCEEDED", amount: 1000, refundedAmount: 400 })).toBe(600);
    expect(refundable({ status: "SUCCEEDED", amount: 1000, refundedAmount: 1000 })).toBe(0);
    expect(refundable({ status: "PENDING", amount: 1000, refundedAmount: 0 })).toBe(0);
    expect(refundable({ status: "FAILED", amount: 1000, refundedAmount: 0 })).toBe(0);
  });

  it("auto-<paymentNo> names the payment to refund", () => {
    const no = newPaymentNo();
    expect(paymentNoOfAutoRefund(`auto-${no}`)).toBe(no);
    expect(paymentNoOfAutoRefund("42")).toBeNull();
    expect(paymentNoOfAutoRefund("auto-")).toBeNull();
  });
});

describe("business numbers", () => {
  it("sort by time, do not repeat, and are not sequential", () => {
    const a = newPaymentNo(1_700_000_000_000);
    const b = newPaymentNo(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^P\d{13}[0-9a-f]{10}$/);
    expect(newRefundNo()).toMatch(/^R\d{13}[0-9a-f]{10}$/);
    const many = new Set(Array.from({ length: 1000 }, () => newPaymentNo(1_700_000_000_000)));
    expect(many.size).toBe(1000);
  });
});
