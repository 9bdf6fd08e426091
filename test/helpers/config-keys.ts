/**
 * The environment variables Mall understands, read from the source of services/shared/config.ts
 * (the one place that parses the environment), plus the service folders that exist. Used by the
 * deployment tests to check that compose/k8s files only set variables the code knows.
 */
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
const CONFIG_TS = path.join(ROOT, "services/shared/config.ts");

/** Every `str|int|bool|url(env, "KEY", …)` key in config.ts. */
export function configKeys(): Set<string> {
  const src = fs.readFileSync(CONFIG_TS, "utf8");
  const keys = new Set<string>();
  for (const m of src.matchAll(/\b(?:str|int|bool|url)\(\s*env\s*,\s*"([A-Z][A-Z0-9_]*)"/g)) keys.add(m[1]);
  return keys;
}

/** config.ts also reads `<SERVICE>_DATABASE_URL` (serviceDatabaseUrl). */
export function hasPerServiceDatabaseUrl(): boolean {
  return /`\$\{service\.toUpperCase\(\)\}_DATABASE_URL`/.test(fs.readFileSync(CONFIG_TS, "utf8"));
}

/** Service names that can go in SERVICES: folders with services/<name>/<name>.service.ts. */
export function serviceNames(): string[] {
  const dir = path.join(ROOT, "services");
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, `${d.name}.service.ts`)))
    .map((d) => d.name)
    .sort();
}

/** Is `key` an environment variable config.ts understands? */
export function isKnownEnv(key: string): boolean {
  if (configKeys().has(key)) return true;
  const m = /^([A-Z]+)_DATABASE_URL$/.exec(key);
  return !!m && hasPerServiceDatabaseUrl() && serviceNames().includes(m[1].toLowerCase());
}

/** `SERVICES=a,b` → ["a", "b"] (the same splitting config.ts does). */
export function parseServices(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The TypeScript source a compiled `dist/<x>.js` file comes from (tsconfig rootDir "."). */
export function sourceOfDist(distPath: string): string {
  const rel = distPath.replace(/^(\.\/|\/app\/)/, "").replace(/^dist\//, "");
  return path.join(ROOT, rel.replace(/\.js$/, ".ts"));
}
