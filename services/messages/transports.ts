/**
 * Where email and SMS leave the shop.
 *
 * Email: nodemailer over SMTP (`SMTP_URL`, pooled connections, `MAIL_FROM`). Without SMTP_URL the
 * "log" transport sends nothing: the rendered mail stays in the delivery log (status LOGGED),
 * where an admin can read what would have gone out.
 *
 * SMS: a provider interface. `sandbox` (the default) records each message in memory and answers
 * like a provider; `webhook` POSTs `{to, text, reference}` to SMS_WEBHOOK_URL signed with
 * HMAC-SHA256 (SMS_WEBHOOK_SECRET, header X-Mall-Signature), the usual shape of an SMS gateway
 * or a small adapter in front of one. Another provider is a class implementing SmsProvider,
 * added to `smsProvider()` and named in SMS_PROVIDER. The per-number rate limit is applied by the
 * sender (delivery.ts), the same for every provider.
 */
import crypto from "node:crypto";
import nodemailer from "nodemailer";
import type { MessagesConfig } from "../shared/config";

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** stable per delivery row: a resend after a crash carries the same Message-ID */
  messageId: string;
}
export interface MailTransport {
  /** "smtp" sends; "log" keeps the message in the delivery log only */
  readonly kind: "smtp" | "log";
  send(m: OutgoingMail): Promise<{ providerId: string | null }>;
  close(): void;
}

export function mailTransport(cfg: MessagesConfig): MailTransport {
  if (!cfg.smtpUrl) {
    return { kind: "log", send: async () => ({ providerId: null }), close: () => undefined };
  }
  const transporter = nodemailer.createTransport({
    url: cfg.smtpUrl,
    pool: true,
    maxConnections: 3,
    // a stuck server must fail the attempt well inside the row's send lock (delivery.ts)
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: "smtp",
    async send(m) {
      const info = await transporter.sendMail({ from: cfg.mailFrom, to: m.to, subject: m.subject, html: m.html, text: m.text, messageId: m.messageId });
      return { providerId: (info as { messageId?: string }).messageId ?? m.messageId };
    },
    close: () => transporter.close(),
  };
}

export interface OutgoingSms {
  to: string;
  text: string;
  /** stable per delivery row (providers de-duplicate on it where they can) */
  reference: string;
}
export interface SmsProvider {
  readonly name: string;
  send(m: OutgoingSms): Promise<{ providerId: string }>;
}

/** Records messages instead of sending them (the last 1,000 per process, for a look in the REPL). */
export class SandboxSmsProvider implements SmsProvider {
  readonly name = "sandbox";
  readonly sent: (OutgoingSms & { at: string })[] = [];
  async send(m: OutgoingSms) {
    this.sent.push({ ...m, at: new Date().toISOString() });
    if (this.sent.length > 1000) this.sent.shift();
    return { providerId: `sandbox-${m.reference}` };
  }
}

export class WebhookSmsProvider implements SmsProvider {
  readonly name = "webhook";
  constructor(
    private url: string,
    private secret: string | null,
  ) {}
  async send(m: OutgoingSms) {
    const body = JSON.stringify({ to: m.to, text: m.text, reference: m.reference });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.secret) headers["x-mall-signature"] = crypto.createHmac("sha256", this.secret).update(body).digest("hex");
    const res = await fetch(this.url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`SMS webhook answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const answer = (await res.json().catch(() => ({}))) as { id?: unknown };
    return { providerId: typeof answer.id === "string" ? answer.id : m.reference };
  }
}

export function smsProvider(cfg: MessagesConfig): SmsProvider {
  if (cfg.smsProvider === "webhook") return new WebhookSmsProvider(cfg.smsWebhookUrl!, cfg.smsWebhookSecret);
  return new SandboxSmsProvider();
}
