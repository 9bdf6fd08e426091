/**
 * Writing messages and sending them.
 *
 * Writing (`plan` + `write`): for each recipient and channel the template in the reader's locale
 * is rendered and one row goes to the delivery log, keyed by `<fact>:<user>:<channel>` (unique):
 * a fact told twice inserts nothing the second time. Inbox messages are written in the same
 * transaction and are delivered by being written (SENT). Email and SMS rows start PENDING —
 * or SUPPRESSED (marketing the user turned off), SKIPPED (no address) or FAILED (the template
 * could not be rendered) — and are sent after the commit.
 *
 * Sending (`sweep`): every node looks for rows due (PENDING, RETRYING whose time has come, or
 * SENDING whose lock passed: the node sending it died) and claims each by compare-and-set
 * (→ SENDING, attempts + 1, locked for SEND_LOCK_MS); only the winner sends. Success: SENT
 * (LOGGED for email without SMTP_URL). Failure: RETRYING after MESSAGES_RETRY_BASE_MS ×
 * 2^(attempts−1) (≤ 1 h), FAILED after MESSAGES_MAX_ATTEMPTS. A crash between the provider's
 * acceptance and the SENT update sends that one message again when the lock passes (the email
 * keeps its Message-ID, the SMS its reference, so receivers and providers can drop the repeat).
 */
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import type { Channel, DeliveryAttrs, DeliveryStatus, InboxAttrs, MessagesModels } from "../../models/messages";
import type { MessagesConfig } from "../shared/config";
import type { KvStore } from "../shared/kv";
import type { UserContact } from "../users/users.contracts";
import { runUpdate } from "../shared/db";
import { MissingVariableError, Vars, htmlToText } from "./domain/render";
import type { NotificationSettingsDto } from "./messages.contracts";
import type { Effective, TemplateStore } from "./template-store";
import type { MailTransport, SmsProvider } from "./transports";

/** How long a claimed row belongs to the node sending it (well above the SMTP timeouts). */
export const SEND_LOCK_MS = 60_000;
/** Rows per INSERT. */
const INSERT_CHUNK = 500;
/** Sends in flight per node. */
const SEND_CONCURRENCY = 4;

const INBOX_COLUMNS = [
  ["user_id", "userId"], ["dedupe_key", "dedupeKey"], ["template_code", "templateCode"], ["subject", "subject"], ["body", "body"],
  ["link", "link"], ["batch_id", "batchId"], ["read_at", "readAt"], ["created_at", "createdAt"],
] as const satisfies readonly (readonly [string, keyof InboxAttrs])[];
const DELIVERY_COLUMNS = [
  ["dedupe_key", "dedupeKey"], ["user_id", "userId"], ["channel", "channel"], ["template_code", "templateCode"], ["locale", "locale"],
  ["category", "category"], ["recipient", "recipient"], ["subject", "subject"], ["body", "body"],
  ["status", "status"], ["attempts", "attempts"], ["last_error", "lastError"], ["provider", "provider"], ["provider_id", "providerId"],
  ["next_attempt_at", "nextAttemptAt"], ["locked_until", "lockedUntil"], ["batch_id", "batchId"], ["sent_at", "sentAt"],
  ["created_at", "createdAt"], ["updated_at", "updatedAt"],
] as const satisfies readonly (readonly [string, keyof DeliveryAttrs])[];

export const DEFAULT_SETTINGS: NotificationSettingsDto = { marketingEmail: true, marketingSms: false };

/** min(base × 2^(attempts−1), 1 h) */
export function retryDelayMs(baseMs: number, attempts: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** One fact to tell one user on the channels of `templates` (one entry per channel, all locales). */
export interface Planned {
  /** the fact: `order.paid:<orderNo>`, `batch:<id>`; the row key appends user and channel */
  key: string;
  user: UserContact | { id: number; missing: true };
  templates: Effective[][];
  vars: Vars;
  link: string | null;
  batchId?: string | null;
}

type DeliveryRow = Omit<DeliveryAttrs, "id">;
type InboxRow = Omit<InboxAttrs, "id">;

export interface Plan {
  inbox: InboxRow[];
  deliveries: DeliveryRow[];
}

export interface DelivererDeps {
  sequelize: Sequelize;
  models: MessagesModels;
  templates: TemplateStore;
  cfg: MessagesConfig;
  mail: MailTransport;
  sms: SmsProvider;
  kv: KvStore;
  logger: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

const short = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 500);

export class Deliverer {
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private kickTimer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private d: DelivererDeps) {}

  // ── settings ─────────────────────────────────────────────────────────────────────────────

  async settingsOf(userIds: number[], t?: Transaction): Promise<Map<number, NotificationSettingsDto>> {
    const out = new Map<number, NotificationSettingsDto>();
    if (!userIds.length) return out;
    const rows = await this.d.models.Settings.findAll({ where: { userId: userIds }, raw: true, transaction: t });
    for (const r of rows) out.set(Number(r.userId), { marketingEmail: !!r.marketingEmail, marketingSms: !!r.marketingSms });
    return out;
  }

  async settings(userId: number): Promise<NotificationSettingsDto> {
    return (await this.settingsOf([userId])).get(userId) ?? { ...DEFAULT_SETTINGS };
  }

  async updateSettings(userId: number, patch: Partial<NotificationSettingsDto>): Promise<NotificationSettingsDto> {
    const next = { ...(await this.settings(userId)), ...patch };
    await this.d.models.Settings.upsert({ userId, marketingEmail: next.marketingEmail, marketingSms: next.marketingSms, updatedAt: new Date() });
    return next;
  }

  // ── writing ──────────────────────────────────────────────────────────────────────────────

  /** Render every message of `items` (settings decide what marketing is suppressed). */
  plan(items: Planned[], settings: Map<number, NotificationSettingsDto>, now = new Date()): Plan {
    const plan: Plan = { inbox: [], deliveries: [] };
    for (const item of items) {
      for (const variants of item.templates) {
        const row = this.planOne(item, variants, settings, now);
        if (!row) continue;
        plan.deliveries.push(row.delivery);
        if (row.inbox) plan.inbox.push(row.inbox);
      }
    }
    return plan;
  }

  private planOne(item: Planned, variants: Effective[], settings: Map<number, NotificationSettingsDto>, now: Date): { delivery: DeliveryRow; inbox?: InboxRow } | null {
    const user = item.user;
    const known = !("missing" in user);
    const tpl = this.d.templates.pick(variants, known ? user.locale : "zh-CN");
    if (!tpl) return null; // disabled in every locale: this channel is off
    const channel = tpl.channel;
    const key = `${item.key}:${user.id}:${channel}`;
    const base: DeliveryRow = {
      dedupeKey: key,
      userId: user.id,
      channel,
      templateCode: tpl.code,
      locale: tpl.locale,
      category: tpl.category,
      recipient: null,
      subject: null,
      body: null,
      status: "PENDING",
      attempts: 0,
      lastError: null,
      provider: null,
      providerId: null,
      nextAttemptAt: now,
      lockedUntil: null,
      batchId: item.batchId ?? null,
      sentAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const skip = (status: DeliveryStatus, why: string) => ({ delivery: { ...base, status, lastError: why, nextAttemptAt: null } });
    if (!known) return skip("SKIPPED", "no such user");
    if (tpl.category === "marketing" && user.status !== "ACTIVE") return skip("SKIPPED", `account ${user.status}`);
    const prefs = settings.get(user.id) ?? DEFAULT_SETTINGS;
    if (tpl.category === "marketing" && ((channel === "email" && !prefs.marketingEmail) || (channel === "sms" && !prefs.marketingSms))) {
      return skip("SUPPRESSED", `marketing ${channel} turned off by the user`);
    }
    const recipient = channel === "email" ? user.email : channel === "sms" ? user.mobile : null;
    if (channel !== "inbox" && !recipient) return skip("SKIPPED", `no ${channel === "email" ? "email address" : "mobile number"}`);
    let rendered;
    try {
      rendered = this.d.templates.compiled(tpl).render({ ...item.vars });
    } catch (err) {
      const why = err instanceof MissingVariableError ? `render: ${err.message}` : `render: ${short(err)}`;
      this.d.logger.error(`message ${key} cannot be rendered with ${tpl.code} (${tpl.locale}): ${why}`);
      return skip("FAILED", why);
    }
    const subject = rendered.subject.slice(0, 255);
    if (channel === "inbox") {
      return {
        delivery: { ...base, subject, status: "SENT", provider: "inbox", sentAt: now, nextAttemptAt: null },
        inbox: { userId: user.id, dedupeKey: key, templateCode: tpl.code, subject, body: rendered.body, link: item.link, batchId: item.batchId ?? null, readAt: null, createdAt: now },
      };
    }
    return { delivery: { ...base, recipient, subject, body: rendered.body } };
  }

  /** Insert a plan in the caller's transaction; rows whose key exists are left alone. Returns rows to send. */
  async write(t: Transaction, plan: Plan): Promise<number> {
    for (let i = 0; i < plan.inbox.length; i += INSERT_CHUNK) {
      await this.insertIgnore(t, "inbox_messages", INBOX_COLUMNS, plan.inbox.slice(i, i + INSERT_CHUNK));
    }
    for (let i = 0; i < plan.deliveries.length; i += INSERT_CHUNK) {
      await this.insertIgnore(t, "message_deliveries", DELIVERY_COLUMNS, plan.deliveries.slice(i, i + INSERT_CHUNK));
    }
    const outgoing = plan.deliveries.filter((d) => d.status === "PENDING").length;
    if (outgoing) t.afterCommit(() => this.kick());
    return outgoing;
  }

  /** One multi-row INSERT that skips rows whose unique key exists (a third of bulkCreate's cost per row). */
  private async insertIgnore<R extends object>(t: Transaction, table: string, columns: readonly (readonly [string, keyof R])[], rows: R[]): Promise<void> {
    if (!rows.length) return;
    const verb = this.d.sequelize.getDialect() === "sqlite" ? "INSERT OR IGNORE" : "INSERT IGNORE";
    const tuple = `(${columns.map(() => "?").join(", ")})`;
    await this.d.sequelize.query(`${verb} INTO ${table} (${columns.map(([c]) => c).join(", ")}) VALUES ${rows.map(() => tuple).join(", ")}`, {
      replacements: rows.flatMap((r) => columns.map(([, k]) => r[k] ?? null)),
      transaction: t,
      type: QueryTypes.INSERT,
    });
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.sweep()
        .catch((err) => this.d.logger.warn(`message sweep failed; will retry: ${short(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.d.cfg.sweepIntervalMs);
        });
    };
    this.timer = setTimeout(tick, Math.min(1000, this.d.cfg.sweepIntervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.kickTimer);
    if (this.running) await this.running.catch(() => undefined);
  }

  /** Send what is due soon (after a commit that wrote outgoing rows). */
  kick(): void {
    if (this.stopped) return;
    this.kickTimer ??= setTimeout(() => {
      this.kickTimer = undefined;
      void this.sweep().catch((err) => this.d.logger.warn(`message sweep failed; will retry: ${short(err)}`));
    }, 5);
  }

  /** Send every row due now; one pass at a time per node (a kick during a pass runs another). */
  sweep(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async () => {
      do {
        this.again = false;
        let n: number;
        do {
          n = await this.sweepBatch();
        } while (n > 0 && !this.stopped);
      } while (this.again && !this.stopped);
    };
    this.running = run().finally(() => (this.running = null));
    return this.running;
  }

  private async sweepBatch(): Promise<number> {
    const now = new Date();
    const due = await this.d.sequelize.query<{ id: number }>(
      "SELECT id FROM message_deliveries WHERE status IN ('PENDING', 'RETRYING') AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 100",
      { replacements: [now], type: QueryTypes.SELECT },
    );
    const abandoned = await this.d.sequelize.query<{ id: number }>(
      "SELECT id FROM message_deliveries WHERE status = 'SENDING' AND locked_until < ? ORDER BY id LIMIT 100",
      { replacements: [now], type: QueryTypes.SELECT },
    );
    const ids = [...due, ...abandoned].map((r) => Number(r.id));
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !this.stopped) {
        const id = ids[next++];
        if (await this.sendOne(id)) sent++;
      }
    };
    await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker));
    return sent;
  }

  /** Claim one row and send it. False when another node had it (or it is not due). */
  async sendOne(id: number): Promise<boolean> {
    const now = new Date();
    const claimed = await runUpdate(
      this.d.sequelize,
      `UPDATE message_deliveries SET status = 'SENDING', attempts = attempts + 1, locked_until = ?, updated_at = ?
        WHERE id = ? AND ((status IN ('PENDING', 'RETRYING') AND next_attempt_at <= ?) OR (status = 'SENDING' AND locked_until < ?))`,
      [new Date(now.getTime() + SEND_LOCK_MS), now, id, now, now],
    );
    if (claimed !== 1) return false;
    const row = (await this.d.models.Delivery.findByPk(id, { raw: true }))!;
    try {
      const result = await this.transmit(row);
      if (result === "deferred") return false;
      await this.finish(id, result.status, { provider: result.provider, providerId: result.providerId, sentAt: new Date(), lastError: null });
      return true;
    } catch (err) {
      const attempts = Number(row.attempts);
      if (attempts >= this.d.cfg.maxAttempts) {
        this.d.logger.error(`delivery ${id} (${row.channel} to user ${row.userId}) FAILED after ${attempts} attempts: ${short(err)}`);
        await this.finish(id, "FAILED", { lastError: short(err), nextAttemptAt: null });
      } else {
        const at = new Date(Date.now() + retryDelayMs(this.d.cfg.retryBaseMs, attempts));
        this.d.logger.warn(`delivery ${id} (${row.channel}) attempt ${attempts} failed, retry at ${at.toISOString()}: ${short(err)}`);
        await this.finish(id, "RETRYING", { lastError: short(err), nextAttemptAt: at });
      }
      return false;
    }
  }

  private async finish(id: number, status: DeliveryStatus, fields: Partial<DeliveryAttrs>): Promise<void> {
    await this.d.models.Delivery.update({ ...fields, status, lockedUntil: null, updatedAt: new Date() }, { where: { id, status: "SENDING" } });
  }

  private async transmit(row: DeliveryAttrs): Promise<{ status: DeliveryStatus; provider: string; providerId: string | null } | "deferred"> {
    const channel = row.channel as Channel;
    if (channel === "email") {
      const { mail } = this.d;
      if (mail.kind === "log") return { status: "LOGGED", provider: "log", providerId: null };
      const sent = await mail.send({ to: row.recipient!, subject: row.subject ?? "", html: row.body ?? "", text: htmlToText(row.body ?? ""), messageId: `<delivery-${row.id}.${row.dedupeKey.length}@mall>` });
      return { status: "SENT", provider: "smtp", providerId: sent.providerId };
    }
    if (channel === "sms") {
      const [count, msLeft] = await this.d.kv.incr(`sms-rate:${row.recipient}`, this.d.cfg.smsRateWindowMs);
      if (count > this.d.cfg.smsRateLimit) {
        // the number had its share of this window: wait for the next one (not a failed attempt)
        const at = new Date(Date.now() + Math.max(msLeft, 1000));
        await this.d.models.Delivery.update(
          { status: "RETRYING", attempts: Math.max(0, Number(row.attempts) - 1), lockedUntil: null, nextAttemptAt: at, lastError: `rate limited: ${this.d.cfg.smsRateLimit} SMS per number per ${this.d.cfg.smsRateWindowMs} ms`, updatedAt: new Date() },
          { where: { id: row.id, status: "SENDING" } },
        );
        return "deferred";
      }
      const sent = await this.d.sms.send({ to: row.recipient!, text: row.body ?? "", reference: `delivery-${row.id}` });
      return { status: "SENT", provider: this.d.sms.name, providerId: sent.providerId };
    }
    return { status: "SENT", provider: "inbox", providerId: null };
  }
}
