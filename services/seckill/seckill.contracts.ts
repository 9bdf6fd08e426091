/**
 * What `seckill` answers, publishes and consumes (API.md "Seckill", DESIGN.md "Seckill").
 * Callers branch on `err.type` (SECKILL_SOLD_OUT, SECKILL_LIMIT_REACHED, SECKILL_NOT_ACTIVE, …).
 */
import { Page, s, schemaOf } from "../shared/schema";
import type { AddressSnapshot } from "../orders/orders.contracts";

/** Durable channels: accepted tickets (relay → writer) and a ticket's final outcome (outbox → messages). */
export const SeckillEvents = {
  ACCEPTED: "seckill.accepted",
  TICKET: "seckill.ticket",
} as const;

/** The consumer group of the order writer, and of seckill's consumers of order facts. */
export const WRITER_GROUP = "seckill-writer";
export const SECKILL_GROUP = "seckill";

/** The inventory hold a published sale takes: every unit of the sale sits in it until sold or given back. */
export const holdReference = (eventId: number) => `seckill:${eventId}`;

export type EventPhase = "upcoming" | "active" | "ended" | "cancelled";

export interface SeckillEventDto {
  id: number;
  skuId: number;
  productId: number;
  title: string;
  /** what the sale asks, fen */
  price: number;
  /** the SKU's price when the sale was published, fen */
  originalPrice: number;
  currency: string;
  quantity: number;
  perUserLimit: number;
  startAt: string;
  endAt: string;
  status: EventPhase;
  imageUrl: string | null;
  /** units still to be had, read live from the store */
  remaining: number;
}

export interface SeckillFigures {
  /** units admitted by the store (tickets QUEUED or later) */
  accepted: number;
  /** units whose order was written */
  ordered: number;
  paid: number;
  /** units of orders that expired unpaid (given back) */
  expired: number;
  /** units of tickets whose order could not be written */
  failed: number;
  remaining: number;
}

export interface AdminSeckillEventDto extends SeckillEventDto {
  figures: SeckillFigures;
  /** units given back to normal stock when the sale ended (null until then) */
  returnedUnits: number | null;
  /** things an admin should know (e.g. the sale price is not below the SKU's price) */
  warnings: string[];
}

export interface CreateSeckillEventParams {
  skuId: number;
  title: string;
  price: number;
  quantity: number;
  perUserLimit: number;
  startAt: string;
  endAt: string;
}

export interface PurchaseParams {
  id: number;
  quantity?: number;
  addressId: number;
}
export interface PurchaseResult {
  ticket: string;
  status: "QUEUED";
}

export type TicketOutcome = "QUEUED" | "SUCCEEDED" | "FAILED";
export interface TicketDto {
  ticket: string;
  eventId: number;
  status: TicketOutcome;
  orderNo?: string;
  reason?: string;
}

/** Message on `seckill.accepted` (relay → writer); JetStream msgID = ticket. */
export interface AcceptedTicket {
  eventId: number;
  ticket: string;
  userId: number;
  quantity: number;
  address: AddressSnapshot;
  acceptedAt: number;
}

/** Payload of `seckill.ticket` (outbox), once per ticket when it ends. */
export interface SeckillTicketEvent {
  eventId: number;
  eventTitle: string;
  ticket: string;
  userId: number;
  status: "SUCCEEDED" | "FAILED";
  orderNo?: string;
  reason?: string;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const eventFields = {
  id: s.integer({ minimum: 1 }),
  skuId: s.integer({ minimum: 1 }),
  productId: s.integer({ minimum: 1 }),
  title: s.string(),
  price: s.money(),
  originalPrice: s.money(),
  currency: s.string(),
  quantity: s.integer({ minimum: 1 }),
  perUserLimit: s.integer({ minimum: 1 }),
  startAt: s.dateTime(),
  endAt: s.dateTime(),
  status: s.enum(["upcoming", "active", "ended", "cancelled"] as const),
  imageUrl: s.nullable(s.string()),
  remaining: s.integer({ minimum: 0, description: "units still to be had (live)" }),
};

export const SeckillEventSchema = schemaOf<SeckillEventDto>()(s.named("SeckillEvent", s.object(eventFields)));
export const SeckillEventPageSchema = schemaOf<Page<SeckillEventDto>>()(s.page(SeckillEventSchema));

export const AdminSeckillEventSchema = schemaOf<AdminSeckillEventDto>()(
  s.named(
    "AdminSeckillEvent",
    s.object({
      ...eventFields,
      figures: s.named(
        "SeckillFigures",
        s.object({
          accepted: s.integer({ minimum: 0 }),
          ordered: s.integer({ minimum: 0 }),
          paid: s.integer({ minimum: 0 }),
          expired: s.integer({ minimum: 0 }),
          failed: s.integer({ minimum: 0 }),
          remaining: s.integer({ minimum: 0 }),
        }),
      ),
      returnedUnits: s.nullable(s.integer({ minimum: 0 })),
      warnings: s.array(s.string()),
    }),
  ),
);
export const AdminSeckillEventPageSchema = schemaOf<Page<AdminSeckillEventDto>>()(s.page(AdminSeckillEventSchema));

export const PurchaseResultSchema = schemaOf<PurchaseResult>()(s.named("SeckillPurchase", s.object({ ticket: s.string(), status: s.enum(["QUEUED"] as const) })));

export const TicketSchema = schemaOf<TicketDto>()(
  s.named(
    "SeckillTicket",
    s.object(
      { ticket: s.string(), eventId: s.integer({ minimum: 1 }), status: s.enum(["QUEUED", "SUCCEEDED", "FAILED"] as const) },
      { orderNo: s.string(), reason: s.string() },
    ),
  ),
);
