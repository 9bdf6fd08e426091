/**
 * Building the web apps (every `web/<app>/vite.config.ts`, each into `web/dist/<app>`).
 *
 * `npm run web:build` builds them all; `npm run build` does too. `npm start` calls
 * `ensureWebBuilt()` first: an app whose build is missing or older than its sources (its own
 * folder, web/shared, the web tsconfig, the lockfile) is rebuilt, so a checkout always serves
 * what it contains with no manual step. Without Vite (a production install without dev
 * dependencies) a missing build is reported and the shop starts with the API alone.
 */
import fs from "node:fs";
import path from "node:path";

export const WEB_DIR = path.resolve(__dirname, "../web");
export const WEB_DIST = path.join(WEB_DIR, "dist");

/** The apps present: folders of web/ with a vite.config.ts. */
export function webApps(): string[] {
  if (!fs.existsSync(WEB_DIR)) return [];
  return fs
    .readdirSync(WEB_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(WEB_DIR, d.name, "vite.config.ts")))
    .map((d) => d.name)
    .sort();
}

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) continue;
    max = Math.max(max, newestMtime(path.join(p, e.name)));
  }
  return max;
}

/** Why `app` needs a build, or null when web/dist/<app> is current. */
export function staleReason(app: string): string | null {
  const index = path.join(WEB_DIST, app, "index.html");
  if (!fs.existsSync(index)) return "not built yet";
  const built = fs.statSync(index).mtimeMs;
  const sources = [path.join(WEB_DIR, app), path.join(WEB_DIR, "shared"), path.join(WEB_DIR, "tsconfig.json"), path.resolve(WEB_DIR, "../package-lock.json")];
  const changed = sources.find((s) => newestMtime(s) > built);
  return changed ? `${path.relative(path.resolve(WEB_DIR, ".."), changed)} changed since the last build` : null;
}

async function loadVite(): Promise<typeof import("vite") | null> {
  try {
    return await import("vite");
  } catch {
    return null;
  }
}

export async function buildApp(app: string, vite?: typeof import("vite")): Promise<void> {
  const v = vite ?? (await loadVite());
  if (!v) throw new Error("vite is not installed (npm install with dev dependencies builds the web apps)");
  await v.build({ configFile: path.join(WEB_DIR, app, "vite.config.ts"), logLevel: "warn", mode: "production" });
  // the build's own mtime is the stamp: touch index.html last so a slow build is not "stale"
  const index = path.join(WEB_DIST, app, "index.html");
  const now = new Date();
  fs.utimesSync(index, now, now);
}

/** Build every app whose build is missing or stale (npm start). Never throws for a missing Vite. */
export async function ensureWebBuilt(log: (line: string) => void = (l) => console.log(l)): Promise<void> {
  const todo = webApps()
    .map((app) => ({ app, reason: staleReason(app) }))
    .filter((a) => a.reason);
  if (!todo.length) return;
  const vite = await loadVite();
  if (!vite) {
    log(`web apps not built (${todo.map((t) => `${t.app}: ${t.reason}`).join("; ")}) and Vite is not installed: serving the API only`);
    return;
  }
  for (const { app, reason } of todo) {
    const started = Date.now();
    log(`building the ${app} web app (${reason})…`);
    await buildApp(app, vite);
    log(`built web/dist/${app} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function main() {
  const onlyStale = process.argv.includes("--if-stale");
  if (onlyStale) return ensureWebBuilt();
  for (const app of webApps()) {
    const started = Date.now();
    await buildApp(app);
    console.log(`built web/dist/${app} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error("web build failed:", err?.message ?? err);
    process.exit(1);
  });
}
