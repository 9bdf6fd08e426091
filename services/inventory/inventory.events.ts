/**
 * Inventory's consumers of order facts (a mixin for the inventory service, next to OutboxMixin):
 *  - `order.paid`      → commit the order's reservation (the stock leaves on-hand);
 *  - `order.cancelled` → release it — a safety net: orders releases on cancel itself, and a
 *                        release that already happened is a no-op.
 * Flash-sale orders (source SECKILL) are skipped: their unit belongs to the sale's hold.
 *
 * Delivery is at least once. `inventory.commit`/`release` are idempotent per reference (a
 * compare-and-set on the reservation status), and the event id is remembered in
 * `processed_events` (consumer "inventory") after the effect, so a redelivery is skipped early.
 * The effect is a call to the local action, which runs its own transaction; it is not wrapped in
 * `once()` because on SQLite that would nest two write transactions (see OutboxMixin.once).
 *
 * A failure is rethrown: JetStream redelivers it (spaced by ChannelBackoffMiddleware in
 * moleculer.config.ts) and after `maxRetries` deliveries it is dead-lettered.
 */
import type { Service, ServiceSchema } from "moleculer";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { Reservation } from "./inventory.contracts";

/** Order channels as orders publishes them (services/orders owns the payload; we need orderNo). */
export const ORDER_PAID = "order.paid";
export const ORDER_CANCELLED = "order.cancelled";
export const INVENTORY_CONSUMER = "inventory";

interface OrderFact {
  orderNo: string;
  /** SECKILL orders hold no stock of their own: their unit sits in the sale's hold, which the
   * seckill service commits or gives back (inventory.commitPart / releasePart) */
  source?: string;
}

type InventoryEventsThis = Service & {
  actions: {
    commit(p: { reference: string }): Promise<Reservation>;
    release(p: { reference: string; reason?: string }): Promise<Reservation>;
  };
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  once<T>(consumer: string, eventId: string, fn: () => Promise<T>): Promise<{ applied: boolean }>;
  onOrderFact(env: EventEnvelope<OrderFact>, effect: (orderNo: string) => Promise<unknown>): Promise<void>;
};

const errType = (err: unknown) => (err as { type?: string })?.type;
const isBusiness = (err: unknown) => {
  const code = (err as { code?: number })?.code;
  return typeof code === "number" && code >= 400 && code < 500;
};

const InventoryEventsMixin = {
  channels: {
    [ORDER_PAID]: {
      group: INVENTORY_CONSUMER,
      maxInFlight: 20,
      maxRetries: 10,
      async handler(this: InventoryEventsThis, env: EventEnvelope<OrderFact>) {
        await this.onOrderFact(env, async (orderNo) => {
          try {
            await this.actions.commit({ reference: orderNo });
          } catch (err) {
            // the order was refunded (its stock released or returned) before this event arrived:
            // there is nothing left to commit, and retrying would only dead-letter a settled fact
            const status = (err as { data?: { status?: string } })?.data?.status;
            if (errType(err) === "RESERVATION_STATE_CONFLICT" && (status === "RELEASED" || status === "RETURNED")) {
              this.logger.warn(`order.paid ${env.eventId}: reservation ${orderNo} is already ${status}; nothing to commit`);
              return;
            }
            // a paid order whose reservation is not OPEN/COMMITTED needs a person: keep the
            // message (dead letter) and say so loudly
            if (isBusiness(err)) this.logger.error(`order.paid ${env.eventId}: cannot commit reservation ${orderNo}: ${errType(err)}`);
            throw err;
          }
        });
      },
    },
    [ORDER_CANCELLED]: {
      group: INVENTORY_CONSUMER,
      maxInFlight: 20,
      maxRetries: 10,
      async handler(this: InventoryEventsThis, env: EventEnvelope<OrderFact>) {
        await this.onOrderFact(env, async (orderNo) => {
          try {
            await this.actions.release({ reference: orderNo, reason: "order cancelled" });
          } catch (err) {
            // nothing reserved, or already committed/returned: nothing for the safety net to do
            if (errType(err) === "RESERVATION_NOT_FOUND" || errType(err) === "RESERVATION_STATE_CONFLICT") {
              this.logger.warn(`order.cancelled ${env.eventId}: reservation ${orderNo} not released: ${errType(err)}`);
              return;
            }
            throw err;
          }
        });
      },
    },
  },

  methods: {
    async onOrderFact(this: InventoryEventsThis, env: EventEnvelope<OrderFact>, effect: (orderNo: string) => Promise<unknown>) {
      const orderNo = env?.data?.orderNo;
      if (!env?.eventId || typeof orderNo !== "string" || !orderNo) {
        // retrying cannot fix a malformed message: acknowledge it, loudly
        this.logger.error(`${env?.type ?? "order event"}: malformed envelope, skipped`, env);
        return;
      }
      if (env.data.source === "SECKILL") return;
      if (await this.hasProcessed(INVENTORY_CONSUMER, env.eventId)) return;
      await effect(orderNo);
      await this.once(INVENTORY_CONSUMER, env.eventId, async () => undefined);
    },
  },
};

export default InventoryEventsMixin as unknown as ServiceSchema;
