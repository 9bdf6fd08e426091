/**
 * A cluster of real OS processes (`tsx bin/start.ts`, one per node) on the local MariaDB, Redis
 * and NATS JetStream, with its own database and namespace — for the crash test and the checkout
 * benchmark. Nodes can be killed with SIGKILL and started again. A small probe broker (no
 * services) joins the namespace to see which services are up and to call internal actions.
 *
 * `tsx` runs the program in a child process of its own, so each node is started in its own
 * process group and killed as a group: SIGKILL to the tsx pid alone would leave the real node
 * running as an orphan (and a "crash" that crashed nothing).
 */
import { ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import net from "node:net";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { migrate } from "../../services/shared/migrator";
import { cleanupNamespace, testEnv, waitFor } from "./shop";

const ROOT = path.resolve(__dirname, "../..");

export interface NodeSpec {
  name: string;
  services: string[];
  env?: Record<string, string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export class ProcessCluster {
  readonly id = crypto.randomBytes(4).toString("hex");
  readonly env: Record<string, string>;
  readonly url: string;
  readonly probe: ServiceBroker;
  private children = new Map<string, ChildProcess>();
  private logs = new Map<string, string>();

  private constructor(
    readonly specs: NodeSpec[],
    readonly port: number,
    extraEnv: Record<string, string>,
  ) {
    this.env = {
      ...testEnv("cluster", this.id),
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      METRICS_PORT: "off",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      LOG_FORMAT: "json",
      MIGRATE_ON_START: "false",
      ...extraEnv,
    };
    this.url = `http://127.0.0.1:${port}`;
    this.probe = new ServiceBroker({
      namespace: this.env.NAMESPACE,
      nodeID: `probe-${this.id}`,
      transporter: this.env.TRANSPORTER as never,
      serializer: "JSON",
      logger: false,
      requestTimeout: 30_000,
    });
  }

  /**
   * Migrate a fresh database, start every node, wait until all services and routes are up.
   * `migrate: false` leaves the fresh database to the nodes (MIGRATE_ON_START in `extraEnv`).
   */
  static async start(specs: NodeSpec[], extraEnv: Record<string, string> = {}, opts: { migrate?: boolean } = {}): Promise<ProcessCluster> {
    const c = new ProcessCluster(specs, await freePort(), extraEnv);
    if (opts.migrate !== false) await migrate(c.env.DATABASE_URL);
    try {
      await c.probe.start();
      await Promise.all(specs.map((s) => c.startNode(s.name, false)));
      await c.ready();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get databaseUrl(): string {
    return this.env.DATABASE_URL;
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
  }

  /** The node's exit code, or null while it runs. */
  exitCode(name: string): number | null {
    return this.children.get(name)?.exitCode ?? null;
  }

  log(name: string): string {
    return this.logs.get(name) ?? "";
  }

  /** Spawn the node `name`; with `wait`, until its services are visible to the probe. */
  async startNode(name: string, wait = true): Promise<void> {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no node ${name}`);
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["bin/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, SERVICES: spec.services.join(","), ...(spec.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.children.set(name, child);
    this.logs.set(name, "");
    const keep = (d: Buffer) => this.logs.set(name, ((this.logs.get(name) ?? "") + d.toString()).slice(-20_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    if (wait) await this.ready([spec]);
  }

  /** Until the probe sees the services of `specs` and the gateway routes them. */
  async ready(specs = this.specs): Promise<void> {
    const services = [...new Set(specs.flatMap((s) => s.services))];
    for (const s of specs) {
      const child = this.children.get(s.name);
      if (child && child.exitCode !== null) throw new Error(`node ${s.name} exited:\n${this.log(s.name)}`);
    }
    await this.probe.waitForServices(services.filter((s) => s !== "api"), 90_000).catch((err) => {
      throw new Error(`services did not come up (${(err as Error).message}):\n${specs.map((s) => `--- ${s.name}\n${this.log(s.name).slice(-3000)}`).join("\n")}`);
    });
    const probes: Record<string, string> = { users: "auth/login", orders: "orders", payments: "payments", cart: "cart/items", catalog: "categories" };
    await waitFor(
      async () => {
        for (const s of services) {
          if (!probes[s]) continue;
          const r = await fetch(`${this.url}/api/v1/${probes[s]}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
          if (r.status === 404 || r.status === 503) return false;
        }
        return true;
      },
      { timeout: 90_000, interval: 200, what: "gateway routes" },
    );
  }

  /** kill -9 the node (its whole process group) and wait until none of it is left. */
  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.children.get(name);
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      return; // already gone
    }
    await waitFor(() => !groupAlive(child.pid!), { interval: 20, timeout: 15_000, what: `node ${name} gone` });
  }

  /** Stop every node (SIGTERM, relayed by tsx; SIGKILL to the group after 10 s), the probe, and drop the database. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(async (child) => {
        const pid = child.pid;
        if (!pid || !groupAlive(pid)) return;
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await waitFor(() => !groupAlive(pid), { interval: 50, timeout: 10_000 }).catch(() => {
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            /* gone */
          }
        });
      }),
    );
    await this.probe.stop().catch(() => undefined);
    await cleanupNamespace(this.env);
  }
}

/** Is any process of the group led by `pgid` still running? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
