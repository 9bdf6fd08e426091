/**
 * The end of a node's start-up, as a person at the console sees it: once the gateway answers
 * `/ready`, one closing block says where the shop is, where to look, and which admin account
 * to use — with its password only when it has just been generated (it is never shown again).
 */
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import type { MallConfig } from "./config";

/** Emitted on the broker's local bus by users.bootstrapAdmin when it generates the admin. */
export const ADMIN_CREATED = "mall.adminCreated";

export interface AdminCreated {
  username: string;
  password: string;
  /** the users service's own announcement, printed when no ready block will carry it */
  banner: string;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Holds a generated admin password for the ready block when this node prints one (a pretty
 * console with the gateway); otherwise prints the users service's banner at once. A password
 * still held when the broker stops is printed then: it exists nowhere else.
 */
export function holdGeneratedAdmin(broker: ServiceBroker, forReadyBlock: boolean): { take(): AdminCreated | null } {
  let held: AdminCreated | null = null;
  broker.localBus.on(ADMIN_CREATED, (e: AdminCreated) => {
    if (forReadyBlock) held = e;
    else process.stdout.write(e.banner);
  });
  broker.localBus.once("$broker.stopped", () => {
    if (held) process.stdout.write(held.banner);
    held = null;
  });
  return {
    take() {
      const e = held;
      held = null;
      return e;
    },
  };
}

function gatewayAddress(broker: ServiceBroker): AddressInfo | null {
  const api = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo | string | null } } | undefined;
  const addr = api?.server?.address();
  return addr && typeof addr === "object" ? addr : null;
}

/** Whether the gateway serves `path` (the storefront and admin console exist once web/ is built). */
async function serves(base: string, path: string): Promise<boolean> {
  try {
    const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status < 400;
  } catch {
    return false;
  }
}

function adminLine(cfg: MallConfig, generated: AdminCreated | null): string {
  if (generated) return `${generated.username} / ${generated.password}   ← new, shown only this once (set ADMIN_USERNAME/ADMIN_PASSWORD to choose your own)`;
  if (cfg.adminUsername && cfg.adminPassword) return `${cfg.adminUsername} (password from ADMIN_PASSWORD)`;
  return "admin (password shown when it was created, at the first start)";
}

/** Wait until the local gateway is ready, then print the closing block (pretty) or log it (json). */
export async function announceReady(broker: ServiceBroker, cfg: MallConfig, admin: { take(): AdminCreated | null }, runsUsers: boolean): Promise<void> {
  const log = broker.getLogger("mall");
  // the checks themselves, not a call to api.ready: failed calls would count towards the circuit
  // breaker, and trip it for the /ready that probes rely on
  const api = broker.getLocalService("api") as unknown as { readinessChecks(): Promise<Record<string, string>> };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let failing = "";
  for (;;) {
    if (!broker.started) return; // stopping: the held password is printed on $broker.stopped
    const checks = await api.readinessChecks();
    failing = Object.entries(checks)
      .filter(([, v]) => v !== "ok")
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    if (!failing) break;
    if (Date.now() > deadline) {
      log.warn(`the gateway is not ready after ${READY_TIMEOUT_MS / 1000} s (${failing}); GET /ready says when it is`);
      const generated = admin.take();
      if (generated) process.stdout.write(generated.banner);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const addr = gatewayAddress(broker);
  if (!addr) return;
  const wildcard = addr.address === "0.0.0.0" || addr.address === "::";
  const host = wildcard ? "localhost" : addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  if (cfg.logFormat === "json") {
    log.info(`Mall is ready at ${url}`);
    return;
  }
  const probe = wildcard ? `http://127.0.0.1:${addr.port}` : url;
  const [storefront, adminConsole] = await Promise.all([serves(probe, "/"), serves(probe, "/admin")]);
  const rows: [string, string][] = [];
  if (storefront) rows.push(["storefront", `${url}/`]);
  if (adminConsole) rows.push(["admin console", `${url}/admin`]);
  rows.push(["API docs", `${url}/api/docs`]);
  if (runsUsers) rows.push(["admin", adminLine(cfg, admin.take())]);
  const rule = "─".repeat(72);
  process.stdout.write(
    ["", `  ${rule}`, `  Mall is ready at ${url}`, ...rows.map(([k, v]) => `    ${k.padEnd(14)}${v}`), `  ${rule}`, "", ""].join("\n"),
  );
}
