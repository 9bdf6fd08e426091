/**
 * Hot reload for `npm run dev`. moleculer's own HotReload stops a service before loading its
 * changed file; when the file does not compile the service is gone, and its next module-tree
 * scan stops watching a file that no loaded service owns — so fixing the file brought nothing
 * back. Here the folders are watched (which also survives editors that save by renaming), a
 * changed service is compiled first and swapped in only if that works: a broken save leaves the
 * running version in place, logs why, and the next good save replaces it.
 */
import fs from "node:fs";
import path from "node:path";
import type { ServiceBroker } from "moleculer";

export interface ReloadOptions {
  /** one folder per service: `<servicesDir>/<name>/<name>.service.<ext>` */
  servicesDir: string;
  /** the services this node runs */
  services: string[];
  /** code every service may import (shared helpers, mixins, models): a change reloads them all */
  sharedDirs: string[];
  debounceMs?: number;
}

const SOURCE_RE = /\.(ts|js|json)$/;

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return !!rel && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export function watchServices(broker: ServiceBroker, opts: ReloadOptions): { close(): void } {
  const log = broker.getLogger("dev");
  const ext = path.extname(__filename);
  const fileOf = (name: string) => path.join(opts.servicesDir, name, `${name}.service${ext}`);
  const pending = new Set<string>();
  let sharedChanged = false;
  let timer: NodeJS.Timeout | null = null;
  let queue: Promise<void> = Promise.resolve();

  /** Forget the compiled modules of these folders, so the next require reads the files again. */
  function uncache(dirs: string[]) {
    for (const key of Object.keys(require.cache)) if (dirs.some((d) => inside(d, key))) delete require.cache[key];
  }

  async function reload(names: string[], shared: boolean) {
    uncache(shared ? [opts.servicesDir, ...opts.sharedDirs] : names.map((n) => path.join(opts.servicesDir, n)));
    for (const name of names) {
      const file = fileOf(name);
      try {
        require(file);
      } catch (err) {
        // the running version stays; a partly evaluated module must not be reused next time
        uncache([path.join(opts.servicesDir, name)]);
        log.error(`'${name}' not reloaded, the running version stays until the next good save:`, err);
        continue;
      }
      const old = broker.getLocalService(name);
      if (old) await broker.destroyService(old);
      try {
        broker.loadService(file); // compiled above: this takes the cached module
        log.info(`'${name}' reloaded`);
      } catch {
        log.error(`'${name}' failed to start; fix it and save again`); // moleculer logged the error
      }
    }
  }

  /** Does the module tree of `mod` include `file` (another service's contracts, say)? */
  function imports(mod: NodeJS.Module, file: string, seen = new Set<string>()): boolean {
    if (mod.filename === file) return true;
    if (seen.has(mod.filename) || mod.filename.includes(`${path.sep}node_modules${path.sep}`)) return false;
    seen.add(mod.filename);
    return mod.children.some((c) => imports(c, file, seen));
  }

  function onChange(file: string) {
    if (!SOURCE_RE.test(file)) return;
    if (opts.sharedDirs.some((d) => inside(d, file))) {
      sharedChanged = true;
      for (const s of opts.services) pending.add(s);
    } else if (inside(opts.servicesDir, file)) {
      const name = path.relative(opts.servicesDir, file).split(path.sep)[0];
      if (opts.services.includes(name)) pending.add(name);
      for (const s of opts.services) {
        const mod = require.cache[fileOf(s)];
        if (mod && imports(mod, file)) pending.add(s);
      }
    }
    if (!pending.size) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const names = [...pending];
      const shared = sharedChanged;
      pending.clear();
      sharedChanged = false;
      queue = queue.then(() => reload(names, shared)).catch((err) => log.error("reload failed:", err));
    }, opts.debounceMs ?? 200);
  }

  const roots = [opts.servicesDir, ...opts.sharedDirs.filter((d) => !inside(opts.servicesDir, d))].filter((d) => fs.existsSync(d));
  const watchers = roots.map((dir) =>
    fs.watch(dir, { recursive: true }, (_event, name) => {
      if (name) onChange(path.join(dir, name.toString()));
    }),
  );
  log.info(`watching ${roots.map((d) => path.relative(process.cwd(), d) || ".").join(", ")} for changes`);

  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
