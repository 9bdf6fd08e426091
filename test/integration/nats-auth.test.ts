/**
 * NATS that requires credentials (user/password, a token, or TLS with a private CA): a second
 * nats-server with JetStream on a free loopback port, started by the test. A node given the
 * credentials joins the cluster and its durable channels work; a node without them is refused,
 * so a stranger who reaches NATS cannot call internal actions such as `users.walletDebit`.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { parseConfig } from "../../services/shared/config";
import { freePort } from "../helpers/processes";
import { client, startShop, testEnv, waitFor } from "../helpers/shop";

const NATS_SERVER = fs.existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";

interface NatsServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function startNatsServer(args: string[]): Promise<NatsServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-nats-"));
  const child: ChildProcess = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
      return log.includes("Server is ready");
    }, { what: "nats-server" });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, dir, stop };
}

/** A bare node (no services of its own) built from the given environment, with its transporter errors. */
function bareNode(env: Record<string, string>, nodeID: string) {
  const broker = new ServiceBroker({
    ...brokerOptions(parseConfig({ ...env, METRICS_PORT: "off" })),
    nodeID,
    // one attempt: the point is to see it refused, not to keep retrying after the test
    transit: { disableReconnect: true },
  });
  const errors: { code?: string; message?: string }[] = [];
  broker.localBus.on("$transporter.error", (p: { error: { code?: string; message?: string } }) => errors.push(p.error));
  return { broker, errors };
}

async function expectRefused(env: Record<string, string>, code: RegExp) {
  const { broker, errors } = bareNode(env, `stranger-${crypto.randomBytes(3).toString("hex")}`);
  let started = false;
  void broker.start().then(() => (started = true), () => undefined);
  try {
    await waitFor(() => errors.length > 0, { what: "the transporter's refusal" });
    expect(`${errors[0].code} ${errors[0].message}`).toMatch(code);
    expect(started).toBe(false);
  } finally {
    await broker.stop().catch(() => undefined);
  }
}

describe("NATS with a user and password (NATS_USER / NATS_PASSWORD)", () => {
  let nats: NatsServer;
  const password = crypto.randomBytes(16).toString("hex");
  beforeAll(async () => {
    nats = await startNatsServer(["--user", "mall", "--pass", password]);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("a cluster given the credentials serves requests across nodes, channels connected; a node without them is refused", async () => {
    const url = `nats://127.0.0.1:${nats.port}`;
    const shop = await startShop({
      shape: "cluster",
      nodes: [["api"], ["users"]],
      env: { TRANSPORTER: url, CHANNELS_URL: url, NATS_USER: "mall", NATS_PASSWORD: password },
    });
    try {
      const http = client(shop);
      // gateway and users are different brokers: registering and logging in cross NATS
      const username = `n${crypto.randomBytes(4).toString("hex")}`;
      const reg = await http.post("auth/register", { username, password: "secret-pass-123", email: `${username}@example.com` });
      expect(reg.status).toBe(201);
      const login = await http.post("auth/login", { username, password: "secret-pass-123" });
      expect(login.status).toBe(200);
      const ready = await http.get("/ready");
      expect(ready.status).toBe(200);
      expect(JSON.stringify(ready.body)).toMatch(/"channels":"ok"/);

      await expectRefused({ ...shop.env, NATS_USER: "", NATS_PASSWORD: "" }, /AUTHORIZATION_VIOLATION|Authorization Violation/i);
      await expectRefused({ ...shop.env, NATS_PASSWORD: "not-the-password" }, /AUTHORIZATION_VIOLATION|Authorization Violation/i);
      // the strangers never appeared in the cluster
      const nodes = shop.brokers[0].registry.getNodeList({ onlyAvailable: false, withServices: false }) as { id: string }[];
      expect(nodes.map((n) => n.id).filter((id) => id.startsWith("stranger-"))).toEqual([]);
    } finally {
      await shop.stop();
    }
  });
});

describe("NATS with a token in the URL, and TLS with a private CA", () => {
  const servers: NatsServer[] = [];
  const brokers: ServiceBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.stop().catch(() => undefined);
    for (const s of servers) await s.stop();
  });

  /** Two nodes on `env`: one answers an action and consumes a channel, the other calls and publishes. */
  async function roundTrip(env: Record<string, string>) {
    const id = crypto.randomBytes(3).toString("hex");
    const a = bareNode(env, `a-${id}`).broker;
    const b = bareNode(env, `b-${id}`).broker;
    brokers.push(a, b);
    const received: string[] = [];
    a.createService({
      name: "echo",
      actions: { hi: (ctx: { params: { n: string } }) => `hi ${ctx.params.n}` },
      channels: { "echo.said": { group: "echo", handler: (p: { n: string }) => void received.push(p.n) } },
    } as never);
    await Promise.all([a.start(), b.start()]);
    await b.waitForServices(["echo"], 10_000);
    expect(await b.call("echo.hi", { n: id })).toBe(`hi ${id}`);
    await (b as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel("echo.said", { n: id });
    await waitFor(() => received.includes(id), { what: "the channel message" });
  }

  it("nats://<token>@host: calls and JetStream channels work with the token, and not without it", async () => {
    const token = crypto.randomBytes(16).toString("hex");
    const nats = await startNatsServer(["--auth", token]);
    servers.push(nats);
    const id = crypto.randomBytes(4).toString("hex");
    const env = { ...process.env, ...testEnv("cluster", id) } as Record<string, string>;
    const url = `nats://${token}@127.0.0.1:${nats.port}`;
    await roundTrip({ ...env, TRANSPORTER: url, CHANNELS_URL: url });
    await expectRefused({ ...env, TRANSPORTER: `nats://127.0.0.1:${nats.port}` }, /AUTHORIZATION_VIOLATION|Authorization Violation/i);
  });

  it("tls://host with NATS_TLS_CA: connects over verified TLS; without the CA the server's certificate is refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-nats-tls-"));
    try {
      const [cert, key] = [path.join(dir, "server.pem"), path.join(dir, "server.key")];
      // a self-signed certificate that doubles as the private CA. nats.js checks it against the
      // URL's host name (for a bare IP it checks "localhost"), so the URL names a host.
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
        "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
      const nats = await startNatsServer(["--tls", "--tlscert", cert, "--tlskey", key]);
      servers.push(nats);
      const id = crypto.randomBytes(4).toString("hex");
      const env = { ...process.env, ...testEnv("cluster", id) } as Record<string, string>;
      const url = `tls://localhost:${nats.port}`;
      await roundTrip({ ...env, TRANSPORTER: url, CHANNELS_URL: url, NATS_TLS_CA: cert });
      await expectRefused({ ...env, TRANSPORTER: url }, /self[- ]signed|certificate/i);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
