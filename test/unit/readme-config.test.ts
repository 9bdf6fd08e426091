/**
 * The README's Configuration table documents exactly the variables config.ts reads, and no other
 * code reads the environment on its own (a variable read elsewhere escapes both).
 */
import fs from "node:fs";
import path from "node:path";
import { ROOT, configKeys, hasPerServiceDatabaseUrl } from "../helpers/config-keys";
import { readRoot } from "../helpers/deploy";

function configTable(): string[] {
  const readme = readRoot("README.md");
  const start = readme.indexOf("\n## Configuration");
  expect(start).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
  const names: string[] = [];
  for (const row of section.split("\n").filter((l) => l.startsWith("| `"))) {
    const first = row.split("|")[1];
    for (const m of first.matchAll(/`([^`]+)`/g)) names.push(m[1]);
  }
  return names;
}

describe("README Configuration table", () => {
  it("lists every variable services/shared/config.ts reads", () => {
    const documented = new Set(configTable());
    expect([...configKeys()].filter((k) => !documented.has(k)).sort()).toEqual([]);
    if (hasPerServiceDatabaseUrl()) expect(documented.has("<SERVICE>_DATABASE_URL")).toBe(true);
  });

  it("lists nothing config.ts does not read", () => {
    const keys = configKeys();
    const invented = configTable().filter((k) => !keys.has(k) && k !== "<SERVICE>_DATABASE_URL");
    expect(invented).toEqual([]);
  });
});

describe("environment reads", () => {
  /** TypeScript sources of the shop (tests, benchmarks and the web build are not the shop). */
  function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
      const rel = path.join(dir, d.name);
      if (d.isDirectory()) return sources(rel);
      return /\.ts$/.test(d.name) && !d.name.endsWith(".d.ts") ? [rel] : [];
    });
  }

  it("only services/shared/config.ts reads individual environment variables", () => {
    const files = ["services", "mixins", "models", "migrations", "bin"].filter((d) => fs.existsSync(path.join(ROOT, d))).flatMap(sources).concat("moleculer.config.ts");
    const reads: string[] = [];
    for (const f of files) {
      if (f === path.join("services", "shared", "config.ts")) continue;
      const src = readRoot(f);
      // process.env.X, process.env["X"], const { X } = process.env
      for (const m of src.matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[\s*["'`]([^"'`]+)["'`]\s*\])/g)) reads.push(`${f}: ${m[1] ?? m[2]}`);
      for (const m of src.matchAll(/\{([^}]*)\}\s*=\s*process\.env\b/g)) reads.push(`${f}: ${m[1].trim()}`);
    }
    // parse the variable in config.ts (str/int/bool/url) and list it in README's table instead
    expect(reads).toEqual([]);
  });
});
