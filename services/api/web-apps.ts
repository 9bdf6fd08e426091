/**
 * The built web apps on the gateway: the storefront at `/` and the admin console at `/admin`
 * (each only once `web/dist/<app>` exists). Hashed assets are cached for a year, index.html is
 * revalidated every time, responses are compressed, and any other path of an app answers its
 * index.html so deep links (`/products/42`, `/admin/orders`) can be shared and reloaded.
 * The API, the docs and the ops endpoints are never shadowed: those paths never reach here.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import compression from "compression";

// serve-static ships no types of its own (moleculer-web depends on it)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const serveStatic = require("serve-static") as (
  root: string,
  opts: { index: false; fallthrough: boolean; redirect: boolean; dotfiles: "ignore"; setHeaders(res: ServerResponse, file: string): void },
) => (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface WebApp {
  name: "storefront" | "admin";
  /** URL prefix: "" for the storefront, "/admin" for the console */
  prefix: string;
}

export const WEB_APPS: WebApp[] = [
  { name: "admin", prefix: "/admin" },
  { name: "storefront", prefix: "" },
];

/** Paths that belong to the gateway itself, never to a web app. */
const RESERVED = /^\/(api|health|ready|metrics)(\/|$)/;

export const IMMUTABLE = "public, max-age=31536000, immutable";

function cacheControl(file: string, dir: string): string {
  const rel = path.relative(dir, file).split(path.sep).join("/");
  if (rel === "index.html") return "no-cache";
  // Vite writes content-hashed names under assets/: they never change
  if (rel.startsWith("assets/")) return IMMUTABLE;
  return "public, max-age=3600";
}

/** Which app a GET/HEAD path belongs to, with the path inside it; null = not a web-app path. */
export function routeWebApp(method: string | undefined, url: string): { app: WebApp; rel: string } | null {
  if (method !== "GET" && method !== "HEAD") return null;
  const pathname = url.split("?")[0];
  if (RESERVED.test(pathname)) return null;
  for (const app of WEB_APPS) {
    if (!app.prefix) return { app, rel: pathname || "/" };
    if (pathname === app.prefix || pathname.startsWith(`${app.prefix}/`)) return { app, rel: pathname.slice(app.prefix.length) || "/" };
  }
  return null;
}

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * A request handler for the built apps under `distDir`; `next()` when the request is not for a
 * built app (the gateway then routes it as before: 404 envelope for an unknown path).
 */
export function webAppsHandler(distDir: string): Handler {
  const compress = compression();
  const servers = new Map<string, ReturnType<typeof serveStatic>>();
  const serverFor = (dir: string) => {
    let s = servers.get(dir);
    if (!s) {
      s = serveStatic(dir, { index: false, fallthrough: true, redirect: false, dotfiles: "ignore", setHeaders: (res, file) => res.setHeader("Cache-Control", cacheControl(file, dir)) });
      servers.set(dir, s);
    }
    return s;
  };

  return (req, res, next) => {
    const hit = routeWebApp(req.method, req.url ?? "/");
    if (!hit) return next();
    const dir = path.join(distDir, hit.app.name);
    // checked per request: an app built while the shop runs is served at once
    if (!fs.existsSync(path.join(dir, "index.html"))) return next();
    const query = (req.url ?? "").includes("?") ? (req.url ?? "").slice((req.url ?? "").indexOf("?")) : "";
    const serve = serverFor(dir);
    const original = req.url;
    compress(req as never, res as never, () => {
      req.url = hit.rel + query;
      serve(req, res, (err?: unknown) => {
        // a missing file with an extension (a stale script, a typo'd image) is a real 404: answering
        // index.html there would hand the browser HTML where it expects JavaScript
        if (err || path.posix.extname(hit.rel) !== "" || hit.rel.startsWith("/assets/")) {
          req.url = original;
          return next();
        }
        req.url = "/index.html";
        serve(req, res, () => {
          req.url = original;
          next();
        });
      });
    });
  };
}
