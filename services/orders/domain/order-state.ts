/**
 * The order life cycle as data (Vendure style). Every move is a compare-and-set on `status` in
 * the database (`UPDATE orders SET status = :to WHERE order_no = ? AND status = :from`); this
 * table says which moves exist, who may make them, and nothing else.
 *
 *   PENDING_PAYMENT ─pay─▶ PAID ─ship─▶ SHIPPED ─confirm─▶ COMPLETED
 *        │                  │             │
 *        └─cancel/expire─▶ CANCELLED      │
 *                           └─requestRefund┴─▶ REFUNDING ─refunded─▶ REFUNDED
 *                                               │
 *                                               └─rejectRefund─▶ back to PAID or SHIPPED
 *
 * A refund request moves the order to REFUNDING at once (the buyer sees it, and the order can no
 * longer be shipped or confirmed while the request is open); the after-sales record remembers the
 * status it came from, and a rejected request returns the order there. Money and stock move only
 * on approval.
 */

export const ORDER_STATUSES = ["PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "REFUNDING", "REFUNDED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TRANSITIONS: Record<OrderStatus, { to: readonly OrderStatus[] }> = {
  PENDING_PAYMENT: { to: ["PAID", "CANCELLED"] },
  PAID: { to: ["SHIPPED", "REFUNDING"] },
  SHIPPED: { to: ["COMPLETED", "REFUNDING"] },
  REFUNDING: { to: ["REFUNDED", "PAID", "SHIPPED"] },
  COMPLETED: { to: [] },
  CANCELLED: { to: [] },
  REFUNDED: { to: [] },
};

export type Actor = "buyer" | "admin" | "system";

/** Named moves: where they may start, where they end, who may make them. */
export const ORDER_ACTIONS = {
  pay: { from: ["PENDING_PAYMENT"], to: "PAID", by: ["system"] },
  cancel: { from: ["PENDING_PAYMENT"], to: "CANCELLED", by: ["buyer", "admin"] },
  expire: { from: ["PENDING_PAYMENT"], to: "CANCELLED", by: ["system"] },
  ship: { from: ["PAID"], to: "SHIPPED", by: ["admin"] },
  confirm: { from: ["SHIPPED"], to: "COMPLETED", by: ["buyer"] },
  requestRefund: { from: ["PAID", "SHIPPED"], to: "REFUNDING", by: ["buyer"] },
  refunded: { from: ["REFUNDING"], to: "REFUNDED", by: ["system"] },
  // the target is the status recorded on the after-sales request (PAID or SHIPPED)
  rejectRefund: { from: ["REFUNDING"], to: null, by: ["admin"] },
} as const satisfies Record<string, { from: readonly OrderStatus[]; to: OrderStatus | null; by: readonly Actor[] }>;

export type OrderAction = keyof typeof ORDER_ACTIONS;

export function isOrderStatus(s: unknown): s is OrderStatus {
  return typeof s === "string" && (ORDER_STATUSES as readonly string[]).includes(s);
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].to.includes(to);
}

export function isFinal(s: OrderStatus): boolean {
  return TRANSITIONS[s].to.length === 0;
}

/**
 * The concrete move `action` makes from `from`, or a reason it cannot. `back` is the status a
 * rejected refund returns to.
 */
export function planTransition(
  action: OrderAction,
  from: OrderStatus,
  actor: Actor,
  back?: OrderStatus,
): { ok: true; from: OrderStatus; to: OrderStatus } | { ok: false; reason: string } {
  const def = ORDER_ACTIONS[action];
  if (!(def.by as readonly Actor[]).includes(actor)) return { ok: false, reason: `${actor} may not ${action} an order` };
  if (!(def.from as readonly OrderStatus[]).includes(from)) return { ok: false, reason: `cannot ${action} an order that is ${from}` };
  const to = def.to ?? back;
  if (!to || !canTransition(from, to)) return { ok: false, reason: `cannot move an order from ${from} to ${to ?? "?"}` };
  return { ok: true, from, to };
}
