/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine in CI), and no
 * package in node_modules carries the Compose specification's JSON schema, so this test reads
 * them and checks structure and meaning: the keys Compose knows (a misspelt one would be
 * ignored or rejected), images and the one build, JetStream, NATS credentials, SERVICES names,
 * env vars the code does not know, missing or weak secrets, healthchecks, start order, volumes,
 * hardening, the image's command, and that comments match the code.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ConfigError, parseConfig } from "../../services/shared/config";
import { ROOT, isKnownEnv, parseServices, serviceNames, sourceOfDist } from "../helpers/config-keys";
import { buildTsconfig, interpolate, isBuilt, readRoot } from "../helpers/deploy";

type Json = Record<string, any>;

const raw = readRoot("docker-compose.yml");
const compose: Json = parse(raw, { merge: true });
const services: Record<string, Json> = compose.services;
/** Service nodes: containers of our image that run Mall services (they set SERVICES). */
const nodes = Object.entries(services).filter(([, s]) => s.environment?.SERVICES !== undefined);
const nodeNames = nodes.map(([n]) => n);
/** Every container of our image: the nodes and the one-shot migration. */
const mallContainers = Object.entries(services).filter(([, s]) => s.image === services.migrate.image);
const packageJson = JSON.parse(readRoot("package.json"));

/** What a user puts in .env, generated as README says (openssl rand -hex 32). */
const DOTENV = {
  JWT_SECRET: crypto.randomBytes(32).toString("hex"),
  SANDBOX_SECRET: crypto.randomBytes(32).toString("hex"),
  NATS_PASSWORD: crypto.randomBytes(32).toString("hex"),
  MYSQL_ROOT_PASSWORD: "0123abcd",
};

/** .env.example as Compose would read it. */
function dotenvExample(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readRoot(".env.example").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

function envOf(service: Json, vars: Record<string, string | undefined> = DOTENV): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) throw new Error("use the mapping form for environment");
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v ?? ""), vars)]));
}

function command(service: Json, vars: Record<string, string | undefined> = DOTENV): string[] {
  const c = service.command;
  return (Array.isArray(c) ? c : String(c ?? "").split(" ")).map((a: string) => interpolate(String(a), vars));
}

function healthTest(service: Json): string {
  const t = service.healthcheck?.test;
  return Array.isArray(t) ? t.slice(1).join(" ") : String(t ?? "");
}

/** "30s", "1m30s" → seconds */
function seconds(d: string): number {
  let total = 0;
  for (const m of String(d).matchAll(/(\d+)(h|m|s|ms)/g)) total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as "h" | "m" | "s" | "ms"];
  return total;
}

/** Keys of the Compose specification this file may use; anything else is a typo. */
const SERVICE_KEYS = new Set([
  "build", "cap_add", "cap_drop", "command", "configs", "container_name", "depends_on", "deploy", "entrypoint", "env_file",
  "environment", "expose", "extends", "healthcheck", "image", "init", "labels", "logging", "networks", "ports", "profiles",
  "pull_policy", "read_only", "restart", "secrets", "security_opt", "stop_grace_period", "stop_signal", "tmpfs", "ulimits",
  "user", "volumes", "working_dir",
]);
const TOP_KEYS = new Set(["name", "services", "volumes", "networks", "configs", "secrets"]);
const HEALTHCHECK_KEYS = new Set(["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"]);
const CONDITIONS = new Set(["service_started", "service_healthy", "service_completed_successfully"]);
const RESTART = new Set(["no", "always", "on-failure", "unless-stopped"]);

describe("docker-compose.yml: structure (the Compose specification's keys and values)", () => {
  it("top-level keys are Compose keys or x- extensions", () => {
    expect(Object.keys(compose).filter((k) => !TOP_KEYS.has(k) && !k.startsWith("x-"))).toEqual([]);
  });

  it.each(Object.keys(services))("%s: only known service keys, healthcheck keys, depends_on conditions and restart policies", (name) => {
    const s = services[name];
    expect(Object.keys(s).filter((k) => !SERVICE_KEYS.has(k))).toEqual([]);
    if (s.healthcheck) {
      expect(Object.keys(s.healthcheck).filter((k) => !HEALTHCHECK_KEYS.has(k))).toEqual([]);
      expect(s.healthcheck.test[0]).toMatch(/^(CMD|CMD-SHELL|NONE)$/);
      for (const k of ["interval", "timeout", "start_period"]) if (s.healthcheck[k] !== undefined) expect(seconds(s.healthcheck[k])).toBeGreaterThan(0);
    }
    for (const [dep, v] of Object.entries((s.depends_on ?? {}) as Record<string, Json>)) {
      expect(services[dep]).toBeDefined();
      expect(CONDITIONS.has(v.condition)).toBe(true);
    }
    if (s.restart !== undefined) expect(RESTART.has(String(s.restart))).toBe(true);
    for (const p of s.ports ?? []) expect(interpolate(String(p), {})).toMatch(/^\d+:\d+$/);
    if (s.stop_grace_period !== undefined) expect(seconds(s.stop_grace_period)).toBeGreaterThan(0);
  });

  it("every ${VAR} that compose interpolates is set by .env.example or has a default", () => {
    const example = dotenvExample();
    for (const m of raw.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)) {
      const [, name, op] = m;
      expect({ name, set: name in example || (op ?? "").includes("-") }).toEqual({ name, set: true });
    }
  });
});

describe("docker-compose.yml: infrastructure", () => {
  it("MySQL 8 with a data volume and a healthcheck", () => {
    expect(services.mysql.image).toMatch(/^mysql:8(\.\d+)*$/);
    expect(services.mysql.volumes.some((v: string) => v.endsWith(":/var/lib/mysql"))).toBe(true);
    expect(services.mysql.environment.MYSQL_ROOT_PASSWORD).toMatch(/^\$\{MYSQL_ROOT_PASSWORD:\?/);
    expect(healthTest(services.mysql)).toMatch(/mysqladmin ping/);
  });

  it("Redis 7 with a healthcheck", () => {
    expect(services.redis.image).toMatch(/^redis:7([.-].*)?$/);
    expect(healthTest(services.redis)).toMatch(/redis-cli ping/);
  });

  it("NATS requires the user and password every node logs in with", () => {
    const args = command(services.nats);
    const user = args[args.indexOf("--user") + 1];
    const pass = args[args.indexOf("--pass") + 1];
    expect(user).toBe("mall");
    expect(pass).toBe(DOTENV.NATS_PASSWORD);
    expect(() => command(services.nats, {})).toThrow(/NATS_PASSWORD/);
    for (const name of nodeNames) {
      const cfg = parseConfig(envOf(services[name]));
      expect({ name, nats: cfg.natsTransport }).toEqual({ name, nats: { servers: ["nats:4222"], user, pass } });
      expect(cfg.natsChannels).toEqual(cfg.natsTransport);
    }
  });

  it("NATS with JetStream enabled and its store on a persistent volume", () => {
    expect(services.nats.image).toMatch(/^nats:2(\.\d+)*(-alpine)?$/);
    const args: string[] = services.nats.command;
    expect(args).toContain("-js");
    const storeDir = args[args.indexOf("-sd") + 1];
    expect(args.indexOf("-sd")).toBeGreaterThanOrEqual(0);
    const mounts: string[] = services.nats.volumes;
    const mount = mounts.find((v) => v.split(":")[1] === storeDir);
    expect(mount).toBeDefined();
    // a named volume (declared at the top level), not a path inside the container
    expect(Object.keys(compose.volumes)).toContain(mount!.split(":")[0]);
    expect(services.nats.healthcheck).toBeDefined();
  });

  it("no anonymous volumes: the Dockerfile declares no VOLUME and every mount is a declared named volume or a path", () => {
    expect(readRoot("Dockerfile")).not.toMatch(/^\s*VOLUME\b/im);
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        // "/container/path" alone would be an anonymous volume
        expect({ name, v, hasSource: v.includes(":") }).toEqual({ name, v, hasSource: true });
      }
    }
  });

  it("every named volume used is declared", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const src = v.split(":")[0];
        if (!src.startsWith(".") && !src.startsWith("/")) expect({ name, volume: src, declared: src in compose.volumes }).toEqual({ name, volume: src, declared: true });
      }
    }
  });
});

describe("docker-compose.yml: migrate (one-shot)", () => {
  const migrate = services.migrate;
  it("runs the compiled migrate script (what `npm run migrate` runs from source)", () => {
    expect(command(migrate)).toEqual(["node", "dist/bin/migrate.js"]);
    expect(path.relative(ROOT, sourceOfDist("dist/bin/migrate.js"))).toBe(path.join("bin", "migrate.ts"));
    expect(isBuilt("bin/migrate.ts")).toBe(true);
    expect(packageJson.scripts.migrate).toMatch(/bin\/migrate\.ts/);
  });
  it("waits for a healthy MySQL, never restarts, gets only the database URL", () => {
    expect(migrate.depends_on.mysql.condition).toBe("service_healthy");
    expect(String(migrate.restart)).toBe("no");
    expect(Object.keys(envOf(migrate))).toEqual(["DATABASE_URL"]);
    expect(envOf(migrate).DATABASE_URL).toBe(envOf(services.gateway).DATABASE_URL);
    expect(() => parseConfig(envOf(migrate))).not.toThrow();
  });
});

describe("docker-compose.yml: service nodes", () => {
  it("has the gateway, users and domain nodes, all running the one image that one `build:` makes", () => {
    expect(nodeNames).toEqual(expect.arrayContaining(["gateway", "users", "domain"]));
    const builders = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(builders.map(([n]) => n)).toEqual(["migrate"]);
    expect(builders[0][1].build).toBe(".");
    expect((raw.match(/^\s*build:/gm) ?? []).length).toBe(1);
    for (const [name, s] of nodes) expect({ name, image: s.image }).toEqual({ name, image: services.migrate.image });
    // a local tag, so `docker compose pull` never looks for it in a registry
    expect(services.migrate.image).toMatch(/^mall:/);
  });

  it.each(mallContainers.map(([n]) => n))("%s: read-only root filesystem, no capabilities, no privilege escalation", (name) => {
    const s = services[name];
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(["ALL"]);
    expect(s.security_opt).toContain("no-new-privileges:true");
    expect(s.user ?? "node").not.toMatch(/^(root|0)(:|$)/);
  });

  it.each(nodeNames)("%s: every SERVICES name is a folder services/<name>/<name>.service.ts", (name) => {
    const list = parseServices(envOf(services[name]).SERVICES);
    expect(list.length).toBeGreaterThan(0);
    const known = serviceNames();
    expect(list.filter((s) => !known.includes(s))).toEqual([]);
  });

  it("every service in services/ runs on some node (a new service needs a SERVICES entry)", () => {
    const deployed = new Set(nodes.flatMap(([, s]) => parseServices(envOf(s).SERVICES)));
    // a new services/<name>/<name>.service.ts must be added to a node's SERVICES (usually `domain`)
    expect({ notInAnyComposeNode: serviceNames().filter((s) => !deployed.has(s)) }).toEqual({ notInAnyComposeNode: [] });
  });

  it("no service runs on two different node kinds, and only the gateway publishes a port", () => {
    const seen = new Map<string, string>();
    for (const [name, s] of nodes) {
      for (const svc of parseServices(envOf(s).SERVICES)) {
        expect({ svc, also: seen.get(svc) ?? null }).toEqual({ svc, also: null });
        seen.set(svc, name);
      }
      if (name !== "gateway") expect({ name, ports: s.ports ?? null }).toEqual({ name, ports: null });
    }
  });

  it.each(nodeNames.concat("migrate"))("%s: sets only env vars that services/shared/config.ts knows", (name) => {
    const unknown = Object.keys(envOf(services[name])).filter((k) => !isKnownEnv(k));
    expect(unknown).toEqual([]);
  });

  it.each(nodeNames)("%s: required secrets come from .env with ${VAR:?} (no default value)", (name) => {
    const env = services[name].environment;
    for (const key of ["JWT_SECRET", "SANDBOX_SECRET", "NATS_PASSWORD"]) {
      expect(String(env[key])).toMatch(new RegExp(`^\\$\\{${key}:\\?[^}]*\\}$`));
    }
    expect(String(env.DATABASE_URL)).toMatch(/\$\{MYSQL_ROOT_PASSWORD:\?[^}]*\}/);
    // without .env the interpolation fails instead of starting with an empty secret
    expect(() => interpolate(String(env.JWT_SECRET), {})).toThrow(/JWT_SECRET/);
  });

  it.each(nodeNames)("%s: refuses to start with the .env.example placeholders (copying the example is not enough)", (name) => {
    const env = envOf(services[name], dotenvExample());
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(/placeholder/);
  });

  it("the sandbox payment provider is not turned on (its pay page lets a customer mark an order paid)", () => {
    for (const name of nodeNames) expect({ name, SANDBOX_ENABLED: envOf(services[name]).SANDBOX_ENABLED ?? "false" }).toEqual({ name, SANDBOX_ENABLED: "false" });
    expect(raw).toMatch(/SANDBOX_ENABLED[^\n]*\n[^\n]*mark their own order paid/);
  });

  it("the node running catalog loads the demo catalog by default (SEED_DEMO), and only that node is asked to", () => {
    for (const [name, s] of nodes) {
      const runsCatalog = parseServices(envOf(s).SERVICES).includes("catalog");
      expect({ name, seedDemo: parseConfig(envOf(s)).seedDemo }).toEqual({ name, seedDemo: runsCatalog });
    }
    expect(parseConfig(envOf(services.domain, { ...DOTENV, SEED_DEMO: "false" })).seedDemo).toBe(false);
  });

  it("stop_grace_period outlasts the broker's drain (tracking.shutdownTimeout), as the comment says", () => {
    const m = /tracking:\s*\{[^}]*shutdownTimeout:\s*([\d_]+)/.exec(readRoot("moleculer.config.ts"));
    expect(m).not.toBeNull();
    const drainSec = Number(m![1].replace(/_/g, "")) / 1000;
    expect(raw).toMatch(new RegExp(`for up to ${drainSec} s`));
    for (const [name, s] of nodes) expect({ name, longer: seconds(s.stop_grace_period) > drainSec }).toEqual({ name, longer: true });
  });

  it.each(nodeNames)("%s: its environment parses as the cluster shape against the compose services", (name) => {
    const env = envOf(services[name]);
    const cfg = parseConfig(env);
    expect(cfg.shape).toBe("cluster");
    expect(cfg.migrateOnStart).toBe(false);
    const hostOf = (u: string) => new URL(u).hostname;
    expect(services[hostOf(cfg.transporter!)]).toBeDefined();
    expect(services[hostOf(cfg.channelsUrl!)]).toBe(services.nats);
    expect(services[hostOf(cfg.redisUrl!)]).toBe(services.redis);
    expect(cfg.databaseUrl).toBe("mysql://root:0123abcd@mysql:3306/mall");
    expect(cfg.transporter).toBe("nats://nats:4222");
    expect(cfg.jwtSecret).toBe(DOTENV.JWT_SECRET);
  });

  it.each(nodeNames)("%s: starts after the migration and healthy infrastructure", (name) => {
    const deps = services[name].depends_on;
    expect(deps.migrate.condition).toBe("service_completed_successfully");
    for (const infra of ["nats", "redis", "mysql"]) expect({ infra, c: deps[infra]?.condition }).toEqual({ infra, c: "service_healthy" });
    for (const dep of Object.keys(deps)) {
      if (deps[dep].condition === "service_healthy") expect({ dep, healthcheck: !!services[dep].healthcheck }).toEqual({ dep, healthcheck: true });
    }
  });

  it("gateway: runs api, publishes 3000, healthcheck hits /ready", () => {
    const g = services.gateway;
    const env = envOf(g);
    expect(parseServices(env.SERVICES)).toEqual(["api"]);
    expect(env.PORT).toBe("3000");
    expect(g.ports.map((p: string) => interpolate(p, {}))).toContain("3000:3000");
    expect(healthTest(g)).toMatch(/^node dist\/bin\/probe\.js http:\/\/127\.0\.0\.1:3000\/ready$/);
  });

  it.each(nodeNames.filter((n) => n !== "gateway"))("%s: has a healthcheck that its node can answer", (name) => {
    const s = services[name];
    expect(healthTest(s)).toBe("node dist/bin/probe.js node");
    // the node probe reads the Prometheus endpoint, so metrics must be on
    expect(parseConfig(envOf(s)).metricsPort).not.toBeNull();
  });

  it("every healthcheck script of our image is compiled by `npm run build`", () => {
    for (const [, s] of nodes) {
      const script = healthTest(s).split(" ")[1];
      const src = path.relative(ROOT, sourceOfDist(script));
      expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
      expect(isBuilt(src)).toBe(true);
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = readRoot("Dockerfile");
  const lines = dockerfile.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));

  it("builds on node:24-slim with npm ci and npm run build", () => {
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^FROM node:24-slim(\s+AS\s+\w+)?$/i);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npm run build/);
  });

  it("runs as a non-root user", () => {
    const users = lines.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0"]).not.toContain(users[users.length - 1]);
  });

  it("CMD starts dist/bin/start.js, which the build produces from bin/start.ts", () => {
    const cmd = lines.filter((l) => /^CMD\s/i.test(l)).pop()!;
    const args: string[] = JSON.parse(cmd.replace(/^CMD\s+/i, ""));
    expect(args[0]).toBe("node");
    const target = args[1];
    expect(target).toBe("dist/bin/start.js");
    const src = path.relative(ROOT, sourceOfDist(target));
    expect(src).toBe(path.join("bin", "start.ts"));
    expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
    const ts = buildTsconfig();
    expect(ts.outDir).toBe("dist");
    expect(ts.rootDir).toBe(".");
    expect(isBuilt(src)).toBe(true);
    // compiled services and migrations must land next to it (broker.ts / migrator.ts find them there)
    expect(isBuilt("services/users/users.service.ts")).toBe(true);
    expect(isBuilt("migrations/0001-events.ts")).toBe(true);
  });

  it("exposes the gateway and metrics ports", () => {
    expect(dockerfile).toMatch(/^EXPOSE .*\b3000\b/m);
    expect(dockerfile).toMatch(/^EXPOSE .*\b3030\b/m);
  });

  it(".dockerignore keeps local state and secrets out of the image", () => {
    const ignore = readRoot(".dockerignore").split("\n").map((l) => l.trim());
    for (const p of ["node_modules", "dist", "data", ".env", ".git"]) expect(ignore).toContain(p);
  });

  it(".env.example names every variable compose requires, with placeholder values", () => {
    const example = dotenvExample();
    const required = new Set<string>();
    for (const m of raw.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)) required.add(m[1]);
    expect([...required].sort()).toEqual(["JWT_SECRET", "MYSQL_ROOT_PASSWORD", "NATS_PASSWORD", "SANDBOX_SECRET"]);
    for (const key of required) expect({ key, value: example[key] }).toEqual({ key, value: expect.stringMatching(/^REPLACE_ME/) });
  });
});
