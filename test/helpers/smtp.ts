/**
 * A real SMTP server on localhost (the `smtp-server` package) that keeps what it receives, for
 * tests that send email through nodemailer. No TLS, no auth: the shop's SMTP_URL points at it.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** header values, lower-case names (unfolded, undecoded) */
  headers: Record<string, string>;
  /** the text/html part, transfer-decoded */
  html: string;
  /** the text/plain part, transfer-decoded */
  text: string;
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < src.length; i++) {
    if (src[i] === "=" && /^[0-9A-F]{2}$/i.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(src[i], "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

function headersOf(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The parts of a (possibly multipart) message, decoded by their Content-Transfer-Encoding. */
function parts(raw: string): { type: string; body: string }[] {
  const split = raw.indexOf("\r\n\r\n");
  const head = headersOf(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const type = head["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith("--"))
      .flatMap((p) => parts(p.replace(/^\r\n/, "")));
  }
  const enc = (head["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const decoded = enc === "base64" ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8") : enc === "quoted-printable" ? decodeQp(body) : body;
  return [{ type: type.split(";")[0].trim().toLowerCase(), body: decoded }];
}

export class TestSmtp {
  readonly mails: ReceivedMail[] = [];
  /** recipients the server refuses (a permanent 550), to exercise retries */
  readonly refuse = new Set<string>();
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (this.refuse.has(address.address)) return callback(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const ps = parts(raw);
          this.mails.push({
            from: session.envelope.mailFrom ? (session.envelope.mailFrom as { address: string }).address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            headers: headersOf(raw.slice(0, raw.indexOf("\r\n\r\n"))),
            html: ps.find((p) => p.type === "text/html")?.body ?? "",
            text: ps.find((p) => p.type === "text/plain")?.body ?? "",
          });
          callback();
        });
      },
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
