/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine in CI), so this test
 * reads them and checks what would break a deployment: images, JetStream, SERVICES names, env
 * vars the code does not know, missing secrets, healthchecks, start order, the image's command.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { parseConfig } from "../../services/shared/config";
import { ROOT, isKnownEnv, parseServices, serviceNames, sourceOfDist } from "../helpers/config-keys";
import { buildTsconfig, interpolate, isBuilt, readRoot } from "../helpers/deploy";

type Json = Record<string, any>;

const compose: Json = parse(readRoot("docker-compose.yml"), { merge: true });
const services: Record<string, Json> = compose.services;
/** Service nodes: containers of our image that run Mall services (they set SERVICES). */
const nodes = Object.entries(services).filter(([, s]) => s.environment?.SERVICES !== undefined);
const nodeNames = nodes.map(([n]) => n);
const packageJson = JSON.parse(readRoot("package.json"));

/** Values a user would put in .env. */
const DOTENV = { JWT_SECRET: "j".repeat(32), SANDBOX_SECRET: "s".repeat(32), MYSQL_ROOT_PASSWORD: "0123abcd" };

function envOf(service: Json): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) throw new Error("use the mapping form for environment");
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v ?? ""), DOTENV)]));
}

function command(service: Json): string {
  const c = service.command;
  return Array.isArray(c) ? c.join(" ") : String(c ?? "");
}

function healthTest(service: Json): string {
  const t = service.healthcheck?.test;
  return Array.isArray(t) ? t.slice(1).join(" ") : String(t ?? "");
}

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
  it("runs `npm run migrate`, which exists", () => {
    expect(command(migrate)).toBe("npm run migrate");
    expect(packageJson.scripts.migrate).toBeDefined();
  });
  it("waits for a healthy MySQL, never restarts, uses the node image and env", () => {
    expect(migrate.depends_on.mysql.condition).toBe("service_healthy");
    expect(String(migrate.restart)).toBe("no");
    expect(migrate.build).toBeDefined();
    expect(envOf(migrate).DATABASE_URL).toMatch(/^mysql:\/\//);
    expect(() => parseConfig(envOf(migrate))).not.toThrow();
  });
});

describe("docker-compose.yml: service nodes", () => {
  it("has the gateway, users and domain nodes, built from the Dockerfile", () => {
    expect(nodeNames).toEqual(expect.arrayContaining(["gateway", "users", "domain"]));
    for (const [name, s] of nodes) {
      expect({ name, build: s.build }).toEqual({ name, build: "." });
      expect({ name, image: s.image }).toEqual({ name, image: services.migrate.image });
    }
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
    const raw = services[name].environment;
    for (const key of ["JWT_SECRET", "SANDBOX_SECRET"]) {
      expect(String(raw[key])).toMatch(new RegExp(`^\\$\\{${key}:\\?[^}]*\\}$`));
    }
    expect(String(raw.DATABASE_URL)).toMatch(/\$\{MYSQL_ROOT_PASSWORD:\?[^}]*\}/);
    // without .env the interpolation fails instead of starting with an empty secret
    expect(() => interpolate(String(raw.JWT_SECRET), {})).toThrow(/JWT_SECRET/);
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
    const example = readRoot(".env.example");
    const required = new Set<string>();
    for (const m of readRoot("docker-compose.yml").matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)) required.add(m[1]);
    expect([...required].sort()).toEqual(["JWT_SECRET", "MYSQL_ROOT_PASSWORD", "SANDBOX_SECRET"]);
    for (const key of required) expect(example).toMatch(new RegExp(`^${key}=REPLACE_ME`, "m"));
  });
});
