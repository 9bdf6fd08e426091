/**
 * `npm run bench:web-bundle`: what a first visit to the storefront downloads — the JavaScript and
 * CSS index.html loads (entry + modulepreloads), gzip -9 as the gateway would serve it — and the
 * largest route chunk. Builds web/dist first when stale. Rewrites the "Storefront bundle" section
 * of bench/RESULTS.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { ensureWebBuilt, WEB_DIST } from "../bin/web-build";

export interface BundleSize {
  initialJsGzip: number;
  initialCssGzip: number;
  initialFiles: string[];
  largestRouteChunk: { file: string; gzip: number };
  totalJsGzip: number;
}

const gz = (file: string) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

/** Sizes of the built app in `dir` (web/dist/storefront). */
export function measureBundle(dir: string): BundleSize {
  const html = fs.readFileSync(path.join(dir, "index.html"), "utf8");
  const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const initialFiles = [...new Set(refs)];
  const size = (ext: string) => initialFiles.filter((f) => f.endsWith(ext)).reduce((n, f) => n + gz(path.join(dir, f)), 0);
  const all = fs.readdirSync(path.join(dir, "assets")).filter((f) => f.endsWith(".js"));
  const chunks = all.filter((f) => !initialFiles.includes(`/assets/${f}`)).map((f) => ({ file: f, gzip: gz(path.join(dir, "assets", f)) }));
  return {
    initialJsGzip: size(".js"),
    initialCssGzip: size(".css"),
    initialFiles,
    largestRouteChunk: chunks.sort((a, b) => b.gzip - a.gzip)[0] ?? { file: "-", gzip: 0 },
    totalJsGzip: all.reduce((n, f) => n + gz(path.join(dir, "assets", f)), 0),
  };
}

async function main() {
  await ensureWebBuilt();
  const s = measureBundle(path.join(WEB_DIST, "storefront"));
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const section = [
    "## Storefront bundle",
    "",
    "Command: `npm run bench:web-bundle` (sizes of web/dist/storefront after `npm run web:build`, gzip -9; the gateway compresses with gzip too).",
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim().split(" ").slice(0, 2).join(" ")}, Node ${process.version}. Run on ${new Date().toISOString().slice(0, 10)}.`,
    "",
    "| what | gzip |",
    "|---|---|",
    `| initial JavaScript (index.html's entry + preloads: ${s.initialFiles.filter((f) => f.endsWith(".js")).length} files) | **${kb(s.initialJsGzip)}** (budget 200 KB) |`,
    `| initial CSS | ${kb(s.initialCssGzip)} |`,
    `| largest route chunk (${s.largestRouteChunk.file.replace(/-[\w-]{8}\.js$/, "")}) | ${kb(s.largestRouteChunk.gzip)} |`,
    `| all JavaScript of every route | ${kb(s.totalJsGzip)} |`,
    "",
    "test/browser/bundle.spec.ts fails the build when the initial JavaScript passes 200 KB.",
    "",
  ].join("\n");
  const file = path.join(__dirname, "RESULTS.md");
  const text = fs.readFileSync(file, "utf8");
  const re = /## Storefront bundle\n[\s\S]*?(?=\n## |$)/;
  fs.writeFileSync(file, re.test(text) ? text.replace(re, section.trimEnd() + "\n") : `${text.trimEnd()}\n\n${section}`);
  console.log(section);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
