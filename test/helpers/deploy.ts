/** Shared bits of the deployment tests (docker-compose.yml, Dockerfile, k8s/). */
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./config-keys";

export function readRoot(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), "utf8");
}

/**
 * Docker Compose variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`)
 * against `vars`, so a test can see the environment a container would really get.
 */
export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (all === "$$") return "$";
    const v = vars[name!];
    const unset = v === undefined || (op?.startsWith(":") && v === "");
    if (op === ":-" || op === "-") return unset ? (arg ?? "") : v!;
    if (op === ":?" || op === "?") {
      if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
      return v!;
    }
    return v ?? "";
  });
}

/** tsconfig.build.json merged over tsconfig.json (what `npm run build` compiles, and where to). */
export function buildTsconfig(): { outDir: string; rootDir: string; include: string[] } {
  const base = JSON.parse(readRoot("tsconfig.json"));
  const build = JSON.parse(readRoot("tsconfig.build.json"));
  const opts = { ...base.compilerOptions, ...build.compilerOptions };
  return { outDir: opts.outDir, rootDir: opts.rootDir, include: build.include ?? base.include };
}

/** Is `src` (relative to the repo root) compiled by `npm run build`? */
export function isBuilt(src: string): boolean {
  const { include } = buildTsconfig();
  return include.some((pattern) => {
    const re = new RegExp(
      "^" +
        pattern
          .replace(/[.+^$()|[\]\\]/g, "\\$&")
          .replace(/\*\*\//g, "(?:.*/)?")
          .replace(/\*/g, "[^/]*") +
        "$",
    );
    return re.test(src);
  });
}
