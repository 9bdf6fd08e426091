/**
 * Starts the shop the browser tests click through: `bin/start.ts` exactly as `npm start` runs it
 * (so a stale or missing web build is rebuilt first), embedded shape, on a free port, with its own
 * data folder and the demo catalog. Its URL and admin account reach the tests through the
 * environment (fixtures.ts); the returned function stops it and removes the folder.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
export const ADMIN = { username: "admin", password: "browser-admin-pass-1" };

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-browser-"));
  const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.tmpdir(),
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      METRICS_PORT: "off",
      LOG_LEVEL: process.env.BROWSER_SHOP_LOG_LEVEL ?? "warn",
      LOG_FORMAT: "pretty",
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      // many fresh accounts sign in from 127.0.0.1 within minutes
      LOGIN_RATE_LIMIT_MAX: "1000",
      RATE_LIMIT_MAX: "100000",
      // the console tests watch the dashboard figures move: answers reused for 2 s, not 30
      STATS_CACHE_TTL: "2",
      ...(process.env.WEB_DIST_DIR ? { WEB_DIST_DIR: process.env.WEB_DIST_DIR } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    // a cold web build on a busy machine takes a while
    const timer = setTimeout(() => reject(new Error(`the shop was not ready within 180 s:\n${out.slice(-4000)}`)), 180_000);
    const check = () => {
      const m = /Mall is ready at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the shop exited (${code}) before it was ready:\n${out.slice(-4000)}`));
    });
  });
  if (!fs.existsSync(path.join(ROOT, "web/dist/storefront/index.html")) && !process.env.WEB_DIST_DIR) {
    child.kill("SIGTERM");
    throw new Error(`the storefront was not built:\n${out.slice(-4000)}`);
  }
  process.env.MALL_URL = url;
  process.env.MALL_ADMIN_USERNAME = ADMIN.username;
  process.env.MALL_ADMIN_PASSWORD = ADMIN.password;
  process.env.MALL_SHOP_LOG = path.join(dataDir, "shop.log");

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
