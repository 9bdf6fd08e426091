/**
 * What `messages` answers over REST and what it consumes. It publishes nothing to other
 * services; its own durable channel `messages.batch` carries the chunks of batch sends.
 *
 * Consumed (group "messages", each event once): order.paid, order.shipped, order.cancelled,
 * refund.approved, refund.rejected (orders), payment.refunded (payments), seckill.ticket
 * (seckill), coupon.claimed (marketing), inventory.low (inventory → operators and admins).
 */
import { Page, s, schemaOf } from "../shared/schema";
import type { Category, Channel, DeliveryStatus, Locale } from "../../models/messages";

export type { Category, Channel, DeliveryStatus, Locale };

export const MessageChannels = {
  /** one chunk of a batch send (or the scan that cuts the next chunks of an `all: true` batch) */
  BATCH: "messages.batch",
} as const;

/** Consumer groups of messages (each records the event ids it handled under this name). */
export const MessageGroups = { NOTIFY: "messages", BATCH: "messages-batch" } as const;

/**
 * `seckill.ticket` (published by seckill once a ticket is settled). The payload is this object;
 * when it arrives inside an outbox envelope, `data` holds it. `eventId` is the flash sale's id.
 */
export const SECKILL_TICKET = "seckill.ticket";
export interface SeckillTicketEvent {
  eventId: number | string;
  eventTitle: string;
  ticket: string;
  userId: number;
  status: "SUCCEEDED" | "FAILED";
  orderNo?: string;
  reason?: string;
}

/** A chunk of a batch: users to send to, or (all: true) a scan of user ids after `afterId`. */
export type BatchChunk = { batchId: string; kind: "users"; seq: number; userIds: number[] } | { batchId: string; kind: "scan"; afterId: number };

// ── REST data ────────────────────────────────────────────────────────────────────────────────

export interface TemplateDto {
  code: string;
  channel: Channel;
  locale: Locale;
  category: Category;
  subject: string;
  body: string;
  enabled: boolean;
  /** shipped with Mall (an event notification); false for templates admins created */
  builtin: boolean;
  /** a built-in template an admin changed (DELETE goes back to the shipped text) */
  overridden: boolean;
  /** the variables it may use (built-in) or uses (created by an admin) */
  variables: string[];
  updatedAt: string | null;
}

export interface PreviewDto {
  code: string;
  channel: Channel;
  locale: Locale;
  subject: string;
  /** HTML for email, plain text otherwise */
  body: string;
  /** email only: the plain-text alternative */
  text: string | null;
}

export interface BatchCreatedDto {
  batchId: string;
  /** users the batch goes to */
  queued: number;
}

export interface BatchDto {
  batchId: string;
  status: "RUNNING" | "COMPLETED";
  templateCode: string;
  channel: Channel;
  queued: number;
  /** delivered (email without SMTP_URL: rendered and kept in the log) */
  sent: number;
  failed: number;
  /** not sent: the user turned marketing email/SMS off */
  suppressed: number;
  /** not sent: no email address / mobile number, or the account is gone */
  skipped: number;
  /** written and waiting to be sent or retried */
  pending: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface DeliveryDto {
  id: number;
  userId: number | null;
  channel: Channel;
  templateCode: string;
  locale: Locale;
  category: Category;
  recipient: string | null;
  subject: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  batchId: string | null;
  createdAt: string;
  sentAt: string | null;
  nextAttemptAt: string | null;
}
export interface DeliveryDetailDto extends DeliveryDto {
  /** what was (or would have been) sent: the HTML email, the SMS text or the inbox message */
  body: string | null;
}

export interface InboxMessageDto {
  id: number;
  subject: string;
  body: string;
  read: boolean;
  createdAt: string;
  /** where the message points in the storefront (`/orders/<orderNo>`) */
  link: string | null;
}
export interface InboxPage extends Page<InboxMessageDto> {
  unread: number;
}

export interface NotificationSettingsDto {
  marketingEmail: boolean;
  marketingSms: boolean;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const channel = s.enum(["inbox", "email", "sms"]);
const locale = s.enum(["zh-CN", "en"]);
const category = s.enum(["transactional", "marketing"]);
const count = s.integer({ minimum: 0 });

export const TemplateSchema = schemaOf<TemplateDto>()(
  s.named(
    "MessageTemplate",
    s.object({
      code: s.string(),
      channel,
      locale,
      category,
      subject: s.string(),
      body: s.string(),
      enabled: s.boolean(),
      builtin: s.boolean(),
      overridden: s.boolean(),
      variables: s.array(s.string()),
      updatedAt: s.nullable(s.dateTime()),
    }),
  ),
);
export const TemplatePageSchema = schemaOf<Page<TemplateDto>>()(s.page(TemplateSchema));

export const PreviewSchema = schemaOf<PreviewDto>()(
  s.named("MessagePreview", s.object({ code: s.string(), channel, locale, subject: s.string(), body: s.string(), text: s.nullable(s.string()) })),
);

export const BatchCreatedSchema = schemaOf<BatchCreatedDto>()(s.object({ batchId: s.string(), queued: count }));

export const BatchSchema = schemaOf<BatchDto>()(
  s.named(
    "MessageBatch",
    s.object({
      batchId: s.string(),
      status: s.enum(["RUNNING", "COMPLETED"]),
      templateCode: s.string(),
      channel,
      queued: count,
      sent: count,
      failed: count,
      suppressed: count,
      skipped: count,
      pending: count,
      createdAt: s.dateTime(),
      finishedAt: s.nullable(s.dateTime()),
    }),
  ),
);

const deliveryFields = {
  id: s.integer({ minimum: 1 }),
  userId: s.nullable(s.integer({ minimum: 1 })),
  channel,
  templateCode: s.string(),
  locale,
  category,
  recipient: s.nullable(s.string()),
  subject: s.nullable(s.string()),
  status: s.enum(["PENDING", "SENDING", "RETRYING", "SENT", "LOGGED", "FAILED", "SUPPRESSED", "SKIPPED"]),
  attempts: count,
  lastError: s.nullable(s.string()),
  provider: s.nullable(s.string()),
  batchId: s.nullable(s.string()),
  createdAt: s.dateTime(),
  sentAt: s.nullable(s.dateTime()),
  nextAttemptAt: s.nullable(s.dateTime()),
};
export const DeliverySchema = schemaOf<DeliveryDto>()(s.named("MessageDelivery", s.object(deliveryFields)));
export const DeliveryPageSchema = schemaOf<Page<DeliveryDto>>()(s.page(DeliverySchema));
export const DeliveryDetailSchema = schemaOf<DeliveryDetailDto>()(
  s.named("MessageDeliveryDetail", s.object({ ...deliveryFields, body: s.nullable(s.string()) })),
);

export const InboxMessageSchema = schemaOf<InboxMessageDto>()(
  s.named(
    "InboxMessage",
    s.object({ id: s.integer({ minimum: 1 }), subject: s.string(), body: s.string(), read: s.boolean(), createdAt: s.dateTime(), link: s.nullable(s.string()) }),
  ),
);
export const InboxPageSchema = schemaOf<InboxPage>()(
  s.named(
    "InboxPage",
    s.object({
      items: s.array(InboxMessageSchema),
      total: count,
      unread: count,
      page: s.integer({ minimum: 1 }),
      pageSize: s.integer({ minimum: 1 }),
    }),
  ),
);
export const UnreadSchema = schemaOf<{ unread: number }>()(s.object({ unread: count }));
export const ReadAllSchema = schemaOf<{ updated: number }>()(s.object({ updated: count }));
export const DeletedSchema = schemaOf<{ deleted: boolean }>()(s.object({ deleted: s.boolean() }));
export const SettingsSchema = schemaOf<NotificationSettingsDto>()(
  s.named("NotificationSettings", s.object({ marketingEmail: s.boolean(), marketingSms: s.boolean() })),
);
