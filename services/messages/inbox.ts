/**
 * A user's inbox and the admins' view of the delivery log. Every read and write names the owner:
 * another user's message is answered exactly like one that does not exist (404).
 */
import type { WhereOptions } from "sequelize";
import type { DeliveryAttrs, InboxAttrs, MessagesModels } from "../../models/messages";
import { bizError } from "../shared/errors";
import type { Page } from "../shared/schema";
import type { Channel, DeliveryDetailDto, DeliveryDto, DeliveryStatus, InboxMessageDto, InboxPage } from "./messages.contracts";

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function inboxDto(m: InboxAttrs): InboxMessageDto {
  return { id: Number(m.id), subject: m.subject, body: m.body, read: !!m.readAt, createdAt: iso(m.createdAt)!, link: m.link };
}

function deliveryDto(d: DeliveryAttrs): DeliveryDto {
  return {
    id: Number(d.id),
    userId: d.userId === null ? null : Number(d.userId),
    channel: d.channel,
    templateCode: d.templateCode,
    locale: d.locale,
    category: d.category,
    recipient: d.recipient,
    subject: d.subject,
    status: d.status,
    attempts: Number(d.attempts),
    lastError: d.lastError,
    provider: d.provider,
    batchId: d.batchId,
    createdAt: iso(d.createdAt)!,
    sentAt: iso(d.sentAt),
    nextAttemptAt: iso(d.nextAttemptAt),
  };
}

export class InboxStore {
  constructor(private m: MessagesModels) {}

  async unread(userId: number): Promise<number> {
    return this.m.Inbox.count({ where: { userId, readAt: null } });
  }

  async page(userId: number, unreadOnly: boolean, page: number, pageSize: number): Promise<InboxPage> {
    const where: WhereOptions<InboxAttrs> = unreadOnly ? { userId, readAt: null } : { userId };
    const [rows, total, unread] = await Promise.all([
      this.m.Inbox.findAll({ where, order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize, raw: true }),
      this.m.Inbox.count({ where }),
      this.unread(userId),
    ]);
    return { items: rows.map(inboxDto), total, unread, page, pageSize };
  }

  /** Mark one of the user's messages read (again is a no-op). */
  async read(userId: number, id: number): Promise<InboxMessageDto> {
    await this.m.Inbox.update({ readAt: new Date() }, { where: { id, userId, readAt: null } });
    const row = await this.m.Inbox.findOne({ where: { id, userId }, raw: true });
    if (!row) throw bizError("MESSAGE_NOT_FOUND", undefined, { id });
    return inboxDto(row);
  }

  async readAll(userId: number): Promise<{ updated: number }> {
    const [updated] = await this.m.Inbox.update({ readAt: new Date() }, { where: { userId, readAt: null } });
    return { updated };
  }

  async deliveries(f: { channel?: Channel; status?: DeliveryStatus; userId?: number; batchId?: string; page: number; pageSize: number }): Promise<Page<DeliveryDto>> {
    const where: WhereOptions<DeliveryAttrs> = {};
    if (f.channel) Object.assign(where, { channel: f.channel });
    if (f.status) Object.assign(where, { status: f.status });
    if (f.userId) Object.assign(where, { userId: f.userId });
    if (f.batchId) Object.assign(where, { batchId: f.batchId });
    const { rows, count } = await this.m.Delivery.findAndCountAll({
      where,
      attributes: { exclude: ["body"] },
      order: [["id", "DESC"]],
      limit: f.pageSize,
      offset: (f.page - 1) * f.pageSize,
      raw: true,
    });
    return { items: rows.map(deliveryDto), total: count, page: f.page, pageSize: f.pageSize };
  }

  /** One delivery with what was sent (for the inbox: the message itself). */
  async delivery(id: number): Promise<DeliveryDetailDto> {
    const d = await this.m.Delivery.findByPk(id, { raw: true });
    if (!d) throw bizError("DELIVERY_NOT_FOUND", undefined, { id });
    let body = d.body;
    if (d.channel === "inbox") {
      const m = await this.m.Inbox.findOne({ where: { dedupeKey: d.dedupeKey }, attributes: ["body"], raw: true });
      body = m?.body ?? null;
    }
    return { ...deliveryDto(d), body };
  }
}

