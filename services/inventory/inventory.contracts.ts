/**
 * What other services may call on `inventory` and what it publishes. Callers use these names and
 * types (`callAction(ctx, InventoryCalls.reserve, …)`, services/shared/actions.ts) and branch on
 * `err.type` ("INSUFFICIENT_STOCK", "STOCK_NOT_FOUND", "RESERVATION_STATE_CONFLICT", …).
 */
import { s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";

/** Durable channel (outbox → @moleculer/channels). */
export const InventoryEvents = { LOW: "inventory.low" } as const;

/** Broker broadcast after any stock change; the catalog drops its cached availability. */
export const STOCK_CHANGED_BROADCAST = "catalog.stockChanged";

export const InventoryActions = {
  INIT: "inventory.init",
  GET_MANY: "inventory.getMany",
  RESERVE: "inventory.reserve",
  RELEASE: "inventory.release",
  COMMIT: "inventory.commit",
  RETURN_STOCK: "inventory.returnStock",
  COMMIT_PART: "inventory.commitPart",
  RELEASE_PART: "inventory.releasePart",
  RETURN_PART: "inventory.returnPart",
} as const;

export type ReservationStatus = "OPEN" | "RELEASED" | "COMMITTED" | "RETURNED";
export type MovementType = "adjust" | "reserve" | "release" | "commit" | "return";

export interface StockLevel {
  skuId: number;
  onHand: number;
  reserved: number;
  /** onHand − reserved */
  available: number;
  lowStockThreshold: number;
}

export interface StockLine {
  skuId: number;
  /** positive integer */
  quantity: number;
}

/** inventory.init (internal): create the stock row if absent; a second call changes nothing. */
export interface InitParams {
  skuId: number;
  onHand: number;
  lowStockThreshold?: number;
}

/** inventory.getMany (internal): unknown SKUs are simply absent from the result. */
export interface GetManyParams {
  skuIds: number[];
}

/**
 * inventory.reserve (internal): all lines or none. Lines for the same SKU are merged. The same
 * reference again returns the existing reservation (whatever its status now is).
 * Errors: INSUFFICIENT_STOCK 409 (data: InsufficientStockData), STOCK_NOT_FOUND 404 (data: { skuId }).
 */
export interface ReserveParams {
  reference: string;
  lines: StockLine[];
}

export interface Reservation {
  reference: string;
  status: ReservationStatus;
  /** merged, ascending skuId */
  lines: StockLine[];
  createdAt: string;
  updatedAt: string;
}

export interface InsufficientStockData {
  skuId: number;
  requested: number;
  available: number;
}

/**
 * inventory.release / inventory.commit / inventory.returnStock (internal): OPEN → RELEASED,
 * OPEN → COMMITTED, COMMITTED → RETURNED. Repeating a transition that already happened returns the
 * reservation unchanged; any other state is RESERVATION_STATE_CONFLICT 409. Releasing an unknown
 * reference leaves a RELEASED marker (a reserve arriving later reserves nothing and answers
 * RESERVATION_STATE_CONFLICT); committing or returning one is RESERVATION_NOT_FOUND 404.
 */
export interface ReleaseParams {
  reference: string;
  reason?: string;
}
export interface CommitParams {
  reference: string;
}
export interface ReturnStockParams {
  reference: string;
  reason?: string;
}

/**
 * inventory.commitPart / inventory.releasePart (internal): `quantity` units of an OPEN
 * single-line hold are sold (leave on-hand) or go back to available stock, once per `key`; the
 * same key again answers the first part (`replayed`). The whole rest of a hold goes back with
 * `inventory.release` (the hold becomes RELEASED). Errors: RESERVATION_NOT_FOUND 404,
 * RESERVATION_STATE_CONFLICT 409 (not OPEN), HOLD_SHORT 409, RESERVATION_REFERENCE_CONFLICT 409
 * (the key was used for another action or quantity).
 */
export interface HoldPartParams {
  reference: string;
  key: string;
  quantity: number;
}
/**
 * inventory.returnPart (internal): the units of a committed part (`key`, e.g. `paid:<orderNo>`)
 * go back on hand — a flash-sale order refunded before it shipped — once per part: the answer's
 * key is `return:<key>` and a repeat answers it `replayed`. RESERVATION_NOT_FOUND 404 when the
 * hold or the committed part is unknown (the commit has not happened yet).
 */
export interface ReturnPartParams {
  reference: string;
  key: string;
  reason?: string;
}
export interface HoldPart {
  reference: string;
  key: string;
  action: "commit" | "release" | "return";
  skuId: number;
  quantity: number;
  replayed: boolean;
}

export interface StockMovement {
  id: number;
  skuId: number;
  type: MovementType;
  onHandDelta: number;
  reservedDelta: number;
  reason: string | null;
  reference: string | null;
  createdAt: string;
}

/** Payload (`data`) of the `inventory.low` event envelope. */
export interface InventoryLowEvent {
  skuId: number;
  available: number;
  threshold: number;
}

/** Payload of the `catalog.stockChanged` broadcast. */
export interface StockChangedBroadcast {
  skuIds: number[];
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

export const StockLevelSchema = schemaOf<StockLevel>()(
  s.named(
    "StockLevel",
    s.object({
      skuId: s.integer({ minimum: 1 }),
      onHand: s.integer({ minimum: 0 }),
      reserved: s.integer({ minimum: 0 }),
      available: s.integer({ description: "onHand − reserved" }),
      lowStockThreshold: s.integer({ minimum: 0 }),
    }),
  ),
);
export const StockLevelPageSchema = schemaOf<Page<StockLevel>>()(s.page(StockLevelSchema));
export const StockMovementPageSchema = schemaOf<Page<StockMovement>>()(
  s.page(
    s.named(
      "StockMovement",
      s.object({
        id: s.integer({ minimum: 1 }),
        skuId: s.integer({ minimum: 1 }),
        type: s.enum(["adjust", "reserve", "release", "commit", "return"]),
        onHandDelta: s.integer(),
        reservedDelta: s.integer(),
        reason: s.nullable(s.string()),
        reference: s.nullable(s.string()),
        createdAt: s.dateTime(),
      }),
    ),
  ),
);

/** Typed descriptors of the actions above (services/shared/actions.ts). */
export const InventoryCalls = {
  init: action<InitParams, unknown>(InventoryActions.INIT),
  getMany: action<GetManyParams, StockLevel[]>(InventoryActions.GET_MANY),
  reserve: action<ReserveParams, Reservation>(InventoryActions.RESERVE),
  release: action<ReleaseParams, Reservation>(InventoryActions.RELEASE),
  returnStock: action<ReturnStockParams, Reservation>(InventoryActions.RETURN_STOCK),
  commitPart: action<HoldPartParams, HoldPart>(InventoryActions.COMMIT_PART),
  releasePart: action<HoldPartParams, HoldPart>(InventoryActions.RELEASE_PART),
  returnPart: action<ReturnPartParams, HoldPart>(InventoryActions.RETURN_PART),
} as const;
