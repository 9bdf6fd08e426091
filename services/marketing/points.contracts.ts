/**
 * The points ledger's results and response schemas (the action names and params are in
 * marketing.contracts.ts). `delta` is the change of the spendable balance, `frozenDelta` the
 * change of the points held by unpaid orders; an entry's kind says why.
 */
import { s, schemaOf } from "../shared/schema";

export const POINTS_KINDS = ["GRANT", "FREEZE", "UNFREEZE", "SPEND", "EARN", "RETURN", "REVOKE"] as const;
export type PointsKind = (typeof POINTS_KINDS)[number];

/** What happened to an order's points: frozen while unpaid, then given back or spent. */
export const POINTS_HOLD_STATUSES = ["FROZEN", "RELEASED", "SPENT"] as const;
export type PointsHoldStatus = (typeof POINTS_HOLD_STATUSES)[number];

export interface PointsEntryDto {
  id: number;
  kind: PointsKind;
  delta: number;
  frozenDelta: number;
  balanceAfter: number;
  reason: string;
  /** the order the entry belongs to, if any */
  orderNo?: string;
  at: string;
}

/** GET /users/me/points: the balances and one page of the ledger, newest first. */
export interface PointsView {
  /** spendable points */
  balance: number;
  /** points held by unpaid orders */
  frozen: number;
  entries: PointsEntryDto[];
  total: number;
  page: number;
  pageSize: number;
}

/** POST /admin/users/:id/points */
export interface PointsGrantResult {
  balance: number;
  frozen: number;
  entry: PointsEntryDto;
  /** false when the Idempotency-Key had already been applied */
  applied: boolean;
}

/** marketing.freezePoints / marketing.unfreezePoints (internal). */
export interface PointsHoldResult {
  orderNo: string;
  points: number;
  status: PointsHoldStatus;
  /** false when this call changed nothing (a retry, or the hold had already moved on) */
  applied: boolean;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const points = (description: string) => s.integer({ description });

const PointsEntrySchema = schemaOf<PointsEntryDto>()(
  s.named(
    "PointsEntry",
    s.object(
      {
        id: s.integer({ minimum: 1 }),
        kind: s.enum(POINTS_KINDS),
        delta: points("change of the spendable balance"),
        frozenDelta: points("change of the frozen points"),
        balanceAfter: points("spendable balance after this entry"),
        reason: s.string(),
        at: s.dateTime(),
      },
      { orderNo: s.string() },
    ),
  ),
);

export const PointsViewSchema = schemaOf<PointsView>()(
  s.named(
    "Points",
    s.object({
      balance: points("spendable points"),
      frozen: points("points held by unpaid orders"),
      entries: s.array(PointsEntrySchema),
      total: s.integer({ minimum: 0 }),
      page: s.integer({ minimum: 1 }),
      pageSize: s.integer({ minimum: 1 }),
    }),
  ),
);

export const PointsGrantSchema = schemaOf<PointsGrantResult>()(
  s.named(
    "PointsGrant",
    s.object({ balance: points("spendable points"), frozen: points("points held by unpaid orders"), entry: PointsEntrySchema, applied: s.boolean() }),
  ),
);
