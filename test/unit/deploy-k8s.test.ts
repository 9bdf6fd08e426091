/**
 * The k8s/ manifests cannot be applied here (no cluster in CI), so this test parses every one and
 * checks what would break a rollout: probes and resources, images, env from the ConfigMap and
 * Secret, SERVICES names, config keys, probe paths, placeholder secrets, labels and selectors.
 */
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError, parseConfig } from "../../services/shared/config";
import { ROOT, isKnownEnv, parseServices, serviceNames, sourceOfDist } from "../helpers/config-keys";
import { isBuilt, readRoot } from "../helpers/deploy";

type Json = Record<string, any>;
interface Obj extends Json {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  __file: string;
}

const K8S = path.join(ROOT, "k8s");
const files = fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort();

function load(file: string): Obj[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(K8S, file), "utf8"));
  return docs.map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
    return { ...(d.toJS() as Json), __file: file } as Obj;
  });
}

const all = files.flatMap(load).filter((o) => o && o.kind);
const kustomization = all.find((o) => o.kind === "Kustomization");
const objects = all.filter((o) => o.kind !== "Kustomization");
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const deployments = ofKind("Deployment");
const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const configMap = byName("ConfigMap", "mall-config")!;
const secret = byName("Secret", "mall-secrets")!;

/** Our image's pod templates: Deployments and Jobs (NATS is a third-party image). */
const mallWorkloads = objects.filter((o) => ["Deployment", "Job"].includes(o.kind));
const containersOf = (o: Obj): Json[] => o.spec.template.spec.containers;
const envList = (c: Json): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e: Json) => [e.name, e.value]));
const servicesOf = (d: Obj) => parseServices(envList(containersOf(d)[0]).SERVICES ?? "");
const gateway = deployments.find((d) => servicesOf(d).includes("api"))!;

/** Values an operator would put in the Secret. */
const REAL_SECRET = { JWT_SECRET: "j".repeat(64), SANDBOX_SECRET: "s".repeat(64), DATABASE_URL: "mysql://mall:pw@mysql.db:3306/mall" };

/** Paths the gateway answers outside /api/v1 (its "/" route aliases in api.service.ts). */
function gatewayRootPaths(): string[] {
  const src = readRoot("services/api/api.service.ts");
  return [...src.matchAll(/"GET ([a-z][\w/.:-]*)":\s*"api\./g)].map((m) => `/${m[1]}`);
}

function metricsPath(): string {
  const m = /type:\s*"Prometheus",\s*options:\s*\{[^}]*path:\s*"([^"]+)"/.exec(readRoot("moleculer.config.ts"));
  if (!m) throw new Error("Prometheus reporter path not found in moleculer.config.ts");
  return m[1];
}

function portNumber(c: Json, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return (c.ports ?? []).find((p: Json) => p.name === port)?.containerPort;
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe("k8s/: files", () => {
  it("every file parses as (multi-document) YAML into Kubernetes objects", () => {
    expect(files.length).toBeGreaterThan(5);
    for (const o of objects) {
      expect(typeof o.apiVersion).toBe("string");
      expect(typeof o.metadata?.name).toBe("string");
    }
  });

  it("has the namespace, config, secret, NATS, migration job, three node groups and the gateway HPA", () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/mall",
        "ConfigMap/mall-config",
        "Secret/mall-secrets",
        "StatefulSet/nats",
        "Service/nats",
        "Job/mall-migrate",
        "Deployment/mall-gateway",
        "Service/mall-gateway",
        "HorizontalPodAutoscaler/mall-gateway",
        "Deployment/mall-users",
        "Deployment/mall-domain",
      ]),
    );
  });

  it("namespaced objects live in the mall namespace and carry part-of: mall", () => {
    for (const o of objects) {
      if (o.kind === "Namespace") continue;
      expect({ o: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({ o: `${o.kind}/${o.metadata.name}`, ns: "mall" });
      expect({ o: `${o.kind}/${o.metadata.name}`, partOf: o.metadata.labels?.["app.kubernetes.io/part-of"] }).toEqual({
        o: `${o.kind}/${o.metadata.name}`,
        partOf: "mall",
      });
    }
  });

  it("kustomization.yaml lists every manifest except the example Secret (so apply -k never overwrites the real one)", () => {
    expect(kustomization).toBeDefined();
    const listed: string[] = kustomization!.resources;
    for (const f of listed) expect(files).toContain(f);
    const expected = files.filter((f) => f !== "kustomization.yaml" && f !== "secret.yaml");
    expect([...listed].sort()).toEqual(expected.sort());
    expect(kustomization!.namespace).toBe("mall");
    expect(kustomization!.images.map((i: Json) => i.name)).toContain("mall");
  });
});

describe("k8s/: workloads of the Mall image", () => {
  it.each(mallWorkloads.map((o) => [`${o.kind}/${o.metadata.name}`, o]))("%s: image, resources, env from the ConfigMap and Secret", (_n, o) => {
    for (const c of containersOf(o as Obj)) {
      expect(typeof c.image).toBe("string");
      expect(c.image).toMatch(/^[\w./-]+(:[\w.-]+)?(@sha256:[a-f0-9]+)?$/);
      expect(c.image).not.toMatch(/:latest$/);
      for (const k of ["requests", "limits"]) {
        expect(c.resources?.[k]?.cpu).toBeDefined();
        expect(c.resources?.[k]?.memory).toBeDefined();
      }
      const from = (c.envFrom ?? []) as Json[];
      expect(from.some((e) => e.configMapRef?.name === "mall-config")).toBe(true);
      expect(from.some((e) => e.secretRef?.name === "mall-secrets")).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    }
    expect((o as Obj).spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
  });

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: every container has readiness and liveness probes", (_n, d) => {
    for (const c of containersOf(d as Obj)) {
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
    }
  });

  it.each(mallWorkloads.map((o) => [`${o.kind}/${o.metadata.name}`, o]))("%s: sets only env vars config.ts knows", (_n, o) => {
    for (const c of containersOf(o as Obj)) {
      expect((c.env ?? []).map((e: Json) => e.name).filter((k: string) => !isKnownEnv(k))).toEqual([]);
    }
  });

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: SERVICES names existing services", (_n, d) => {
    const list = servicesOf(d as Obj);
    expect(list.length).toBeGreaterThan(0);
    expect(list.filter((s) => !serviceNames().includes(s))).toEqual([]);
  });

  it("every service in services/ runs in some Deployment, each in exactly one", () => {
    const deployed = deployments.flatMap(servicesOf);
    // a new services/<name>/<name>.service.ts must be added to a Deployment's SERVICES (usually k8s/domain.yaml)
    expect({ notInAnyDeployment: serviceNames().filter((s) => !deployed.includes(s)) }).toEqual({ notInAnyDeployment: [] });
    expect(deployed.filter((s, i) => deployed.indexOf(s) !== i)).toEqual([]);
  });

  it.each(mallWorkloads.map((o) => [`${o.kind}/${o.metadata.name}`, o]))("%s: its full environment parses as the cluster shape", (_n, o) => {
    const env = { ...configMap.data, ...REAL_SECRET, ...envList(containersOf(o as Obj)[0]) };
    const cfg = parseConfig(env);
    expect(cfg.shape).toBe("cluster");
    expect(cfg.migrateOnStart).toBe(false);
    expect(cfg.channelsUrl).toMatch(/^nats:/);
  });

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: selector matches the pod labels", (_n, d) => {
    const dep = d as Obj;
    expect(Object.keys(dep.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(matches(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels)).toBe(true);
  });

  it("each Deployment's selector picks only its own pods", () => {
    for (const d of deployments) {
      const others = deployments.filter((x) => x !== d && matches(d.spec.selector.matchLabels, x.spec.template.metadata.labels));
      expect({ d: d.metadata.name, others: others.map((o) => o.metadata.name) }).toEqual({ d: d.metadata.name, others: [] });
    }
  });
});

describe("k8s/: probes", () => {
  const rootPaths = gatewayRootPaths();

  it("the gateway answers /health and /ready on its root route", () => {
    expect(rootPaths).toEqual(expect.arrayContaining(["/health", "/ready"]));
  });

  it("gateway: readiness GET /ready and liveness GET /health on containerPort 3000 = PORT", () => {
    const c = containersOf(gateway)[0];
    expect(envList(c).PORT).toBe("3000");
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(portNumber(c, c.readinessProbe.httpGet.port)).toBe(3000);
    expect(portNumber(c, c.livenessProbe.httpGet.port)).toBe(3000);
  });

  it("every HTTP probe hits a path that exists on the port it names", () => {
    for (const d of deployments) {
      for (const c of containersOf(d)) {
        const port = Number(envList(c).PORT ?? configMap.data.PORT ?? 3000);
        const metrics = Number(envList(c).METRICS_PORT ?? configMap.data.METRICS_PORT ?? 3030);
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
          const http = c[probe]?.httpGet;
          if (!http) continue;
          const n = portNumber(c, http.port);
          const where = `${d.metadata.name} ${probe} ${http.path} :${n}`;
          if (n === port && servicesOf(d).includes("api")) expect({ where, ok: rootPaths.includes(http.path) }).toEqual({ where, ok: true });
          else expect({ where, ok: n === metrics && http.path === metricsPath() }).toEqual({ where, ok: true });
        }
      }
    }
  });

  it("exec probes run a script that `npm run build` produces, and the node probe has metrics on", () => {
    for (const d of deployments) {
      for (const c of containersOf(d)) {
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          const cmd: string[] | undefined = c[probe]?.exec?.command;
          if (!cmd) continue;
          expect(cmd[0]).toBe("node");
          const src = path.relative(ROOT, sourceOfDist(cmd[1]));
          expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
          expect(isBuilt(src)).toBe(true);
          if (cmd[2] === "node") expect(parseConfig({ ...configMap.data, ...REAL_SECRET, ...envList(c) }).metricsPort).toBe(portNumber(c, "metrics"));
        }
      }
    }
  });

  it("named probe ports exist on the container", () => {
    for (const o of [...deployments, ...ofKind("StatefulSet")]) {
      for (const c of containersOf(o)) {
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
          const p = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
          if (p !== undefined) expect({ o: o.metadata.name, probe, port: portNumber(c, p) !== undefined }).toEqual({ o: o.metadata.name, probe, port: true });
        }
      }
    }
  });
});

describe("k8s/: ConfigMap and Secret", () => {
  it("ConfigMap keys are environment variables config.ts knows", () => {
    expect(Object.keys(configMap.data).filter((k) => !isKnownEnv(k))).toEqual([]);
  });

  it("ConfigMap holds no secrets", () => {
    for (const k of ["JWT_SECRET", "SANDBOX_SECRET", "DATABASE_URL", "ADMIN_PASSWORD"]) expect(configMap.data).not.toHaveProperty(k);
    for (const v of Object.values(configMap.data) as string[]) expect(v).not.toMatch(/:\/\/[^/@\s]*:[^/@\s]+@/);
  });

  it("Secret has JWT_SECRET, SANDBOX_SECRET and DATABASE_URL, all known config keys", () => {
    expect(secret.data).toBeUndefined(); // stringData only, readable placeholders
    expect(Object.keys(secret.stringData).sort()).toEqual(expect.arrayContaining(["DATABASE_URL", "JWT_SECRET", "SANDBOX_SECRET"]));
    expect(Object.keys(secret.stringData).filter((k) => !isKnownEnv(k))).toEqual([]);
  });

  it("Secret values are placeholders, not real-looking secrets", () => {
    for (const [k, v] of Object.entries(secret.stringData) as [string, string][]) {
      expect({ k, placeholder: /REPLACE_ME/.test(v) }).toEqual({ k, placeholder: true });
      // nothing that looks like a generated key: long hex/base64 runs
      expect({ k, v }).not.toEqual({ k, v: expect.stringMatching(/[A-Za-z0-9+/=_-]{24,}/) });
    }
    expect(readRoot("k8s/secret.yaml")).toMatch(/placeholder/i);
  });

  it("a node started with the placeholder secret refuses to run", () => {
    const env = { ...configMap.data, ...secret.stringData, SERVICES: "users" };
    expect(() => parseConfig(env)).toThrow(ConfigError);
  });
});

describe("k8s/: Services, HPA, NATS, migration Job", () => {
  it("every Service selects pods of some workload and targets ports they declare", () => {
    const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
    for (const s of ofKind("Service")) {
      const targets = workloads.filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
      expect({ svc: s.metadata.name, targets: targets.length > 0 }).toEqual({ svc: s.metadata.name, targets: true });
      for (const p of s.spec.ports) {
        for (const w of targets) {
          const ok = containersOf(w).some((c) => portNumber(c, p.targetPort ?? p.port) !== undefined);
          expect({ svc: s.metadata.name, port: p.name, ok }).toEqual({ svc: s.metadata.name, port: p.name, ok: true });
        }
      }
    }
  });

  it("the gateway Service exposes port 3000 of the gateway pods", () => {
    const svc = byName("Service", "mall-gateway")!;
    expect(matches(svc.spec.selector, gateway.spec.template.metadata.labels)).toBe(true);
    const c = containersOf(gateway)[0];
    expect(portNumber(c, svc.spec.ports[0].targetPort)).toBe(3000);
  });

  it("HPA scales the gateway Deployment on CPU, which has CPU requests", () => {
    const hpa = byName("HorizontalPodAutoscaler", "mall-gateway")!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: gateway.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.some((m: Json) => m.resource?.name === "cpu")).toBe(true);
    for (const c of containersOf(gateway)) expect(c.resources.requests.cpu).toBeDefined();
  });

  it("PodDisruptionBudgets and PVCs referenced by workloads exist", () => {
    for (const pdb of ofKind("PodDisruptionBudget")) {
      expect(deployments.some((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels))).toBe(true);
    }
    for (const d of deployments) {
      for (const v of d.spec.template.spec.volumes ?? []) {
        if (v.persistentVolumeClaim) expect(byName("PersistentVolumeClaim", v.persistentVolumeClaim.claimName)).toBeDefined();
      }
    }
  });

  it("NATS runs JetStream with its store on a persistent volume claim, probed and resourced", () => {
    const sts = byName("StatefulSet", "nats")!;
    expect(matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
    const c = containersOf(sts)[0];
    expect(c.image).toMatch(/^nats:2/);
    const args: string[] = c.args;
    expect(args).toContain("-js");
    const storeDir = args[args.indexOf("-sd") + 1];
    const mount = c.volumeMounts.find((m: Json) => m.mountPath === storeDir);
    expect(mount).toBeDefined();
    expect(sts.spec.volumeClaimTemplates.map((t: Json) => t.metadata.name)).toContain(mount.name);
    expect(c.readinessProbe && c.livenessProbe).toBeTruthy();
    expect(c.resources.requests && c.resources.limits).toBeTruthy();
    expect(portNumber(c, "client")).toBe(4222);
    // the Service the nodes connect to
    const host = new URL(configMap.data.TRANSPORTER).hostname;
    expect(byName("Service", host)).toBeDefined();
    expect(configMap.data.CHANNELS_URL).toBe(configMap.data.TRANSPORTER);
  });

  it("the migration Job runs `npm run migrate` once, never restarting in place", () => {
    const job = byName("Job", "mall-migrate")!;
    const c = containersOf(job)[0];
    expect(c.command).toEqual(["npm", "run", "migrate"]);
    expect(JSON.parse(readRoot("package.json")).scripts.migrate).toBeDefined();
    expect(["Never", "OnFailure"]).toContain(job.spec.template.spec.restartPolicy);
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
  });
});
