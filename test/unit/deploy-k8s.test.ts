/**
 * The k8s/ manifests cannot be applied here (no cluster in CI), so this test validates every
 * document against the Kubernetes schemas (strictly: unknown fields fail) and checks what would
 * break a rollout or open a hole: probes and resources, securityContext, images, env from the
 * ConfigMap and Secret, SERVICES names, config keys, probe paths, placeholder secrets, HPAs and
 * replicas, PDBs, the NATS StatefulSet and its storage, and who the NetworkPolicies let in.
 */
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError, parseConfig } from "../../services/shared/config";
import { ROOT, isKnownEnv, parseServices, serviceNames, sourceOfDist } from "../helpers/config-keys";
import { isBuilt, readRoot } from "../helpers/deploy";
import { KINDS, validateManifests } from "../helpers/k8s-schema";

type Json = Record<string, any>;
interface Obj extends Json {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  __file: string;
}

const K8S = path.join(ROOT, "k8s");
const files = fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort();

function parseDocs(text: string, file: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
      return { ...(d.toJS() as Json), __file: file } as Obj;
    })
    .filter((o) => o && o.kind);
}

const all = files.flatMap((f) => parseDocs(fs.readFileSync(path.join(K8S, f), "utf8"), f));
const kustomization = all.find((o) => o.kind === "Kustomization")!;
const listed: string[] = kustomization.resources;
/** Manifests of services still to come: ready in k8s/, not applied until the service exists. */
const upcomingFiles = files.filter((f) => f !== "kustomization.yaml" && f !== "secret.yaml" && !listed.includes(f));
/** What `kubectl apply -k` applies, plus the example Secret the pods read. */
const objects = all.filter((o) => o.kind !== "Kustomization" && !upcomingFiles.includes(o.__file));
const ofKind = (kind: string, from = objects) => from.filter((o) => o.kind === kind);
const deployments = ofKind("Deployment");
const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const configMap = byName("ConfigMap", "mall-config")!;
const secret = byName("Secret", "mall-secrets")!;

/** Our image's pod templates: Deployments and Jobs (NATS is a third-party image). */
const mallWorkloads = objects.filter((o) => ["Deployment", "Job"].includes(o.kind));
const podWorkloads = (from = objects) => from.filter((o) => ["Deployment", "Job", "StatefulSet"].includes(o.kind));
const containersOf = (o: Obj): Json[] => o.spec.template.spec.containers;
const envList = (c: Json): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e: Json) => [e.name, e.value]));
const secretRefs = (c: Json): Json[] => (c.env ?? []).filter((e: Json) => e.valueFrom?.secretKeyRef).map((e: Json) => ({ name: e.name, ...e.valueFrom.secretKeyRef }));
const servicesOf = (d: Obj) => parseServices(envList(containersOf(d)[0]).SERVICES ?? "");
const gateway = deployments.find((d) => servicesOf(d).includes("api"))!;

/** What an operator puts in the Secret (generated as README says). */
const REAL_SECRET: Record<string, string> = {
  JWT_SECRET: crypto.randomBytes(32).toString("hex"),
  SANDBOX_SECRET: crypto.randomBytes(32).toString("hex"),
  NATS_PASSWORD: crypto.randomBytes(32).toString("hex"),
  DATABASE_URL: "mysql://mall:pw@mysql.db:3306/mall",
  REDIS_URL: "redis://:pw@redis.db:6379",
};

/** The environment a container really gets: its ConfigMap, the Secret keys it references, its own values. */
function podEnv(c: Json, secretValues: Record<string, string> = REAL_SECRET): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) if (from.configMapRef?.name === "mall-config") Object.assign(env, configMap.data);
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref && secretValues[ref.key] !== undefined) env[e.name] = secretValues[ref.key];
    const cm = e.valueFrom?.configMapKeyRef;
    if (cm?.name === "mall-config") env[e.name] = configMap.data[cm.key];
  }
  return env;
}

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

/** A LabelSelector (matchLabels and matchExpressions In/NotIn/Exists) against labels. */
function selects(sel: Json | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return true;
  if (!matches(sel.matchLabels ?? {}, labels)) return false;
  return (sel.matchExpressions ?? []).every((e: Json) => {
    if (e.operator === "In") return e.values.includes(labels[e.key]);
    if (e.operator === "NotIn") return !e.values.includes(labels[e.key]);
    if (e.operator === "Exists") return e.key in labels;
    if (e.operator === "DoesNotExist") return !(e.key in labels);
    throw new Error(`operator ${e.operator}`);
  });
}

/** Can a pod labelled `src` open `port` on a pod labelled `dst`, both in the namespace? (NetworkPolicy semantics) */
function admits(dst: Record<string, string>, src: Record<string, string>, port: number): boolean {
  const policies = ofKind("NetworkPolicy").filter((p) => selects(p.spec.podSelector, dst) && (p.spec.policyTypes ?? ["Ingress"]).includes("Ingress"));
  if (policies.length === 0) return true;
  return policies.some((p) =>
    (p.spec.ingress ?? []).some((rule: Json) => {
      const fromOk = !rule.from || rule.from.some((f: Json) => !f.namespaceSelector && !f.ipBlock && selects(f.podSelector, src));
      const portOk = !rule.ports || rule.ports.some((rp: Json) => rp.port === port);
      return fromOk && portOk;
    }),
  );
}

/** Kubernetes quantity → bytes (Gi, Mi, GB, MB…). */
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|KB|MB|GB|TB)?$/i.exec(q.trim());
  if (!m) throw new Error(`quantity ${q}`);
  const unit = (m[2] ?? "").toUpperCase();
  const pow: Record<string, number> = { "": 1, K: 1e3, KB: 1e3, M: 1e6, MB: 1e6, G: 1e9, GB: 1e9, T: 1e12, TB: 1e12, KI: 2 ** 10, MI: 2 ** 20, GI: 2 ** 30, TI: 2 ** 40 };
  return Number(m[1]) * pow[unit];
}

describe("k8s/: schema validation", () => {
  const manifests = all.filter((o) => o.kind !== "Kustomization").map((o, i) => ({ where: `${o.__file} ${o.kind}/${o.metadata?.name} (#${i})`, object: stripMeta(o) }));

  function stripMeta(o: Obj): Json {
    const { __file: _f, ...rest } = o;
    return rest;
  }

  it("every document of every file in k8s/ (the upcoming ones too) is valid against its kind's schema, with no unknown fields", () => {
    expect(manifests.length).toBeGreaterThan(20);
    const invalid = validateManifests(manifests).filter((r) => r.problems.length);
    expect(invalid).toEqual([]);
  });

  it("the validator catches misspelt fields, wrong types, missing required fields and unknown kinds", () => {
    const dep = stripMeta(gateway);
    const broken = (mutate: (o: Json) => void): Json => {
      const o = JSON.parse(JSON.stringify(dep));
      mutate(o);
      return o;
    };
    const cases: [string, Json, RegExp][] = [
      ["replica: 2", broken((o) => (o.spec.replica = 2)), /replica/],
      ['replicas: "2"', broken((o) => (o.spec.replicas = "2")), /replicas must be integer|not assignable to type 'number'/],
      ["containerPort as a string", broken((o) => (o.spec.template.spec.containers[0].ports[0].containerPort = "3000")), /integer|number/],
      ["a misspelt container field", broken((o) => (o.spec.template.spec.containers[0].imagePullPolicyy = "Always")), /imagePullPolicyy/],
      ["a container without a name", broken((o) => delete o.spec.template.spec.containers[0].name), /name/],
      ["runAsNonRoot as a string", broken((o) => (o.spec.template.spec.securityContext.runAsNonRoot = "true")), /boolean/],
      ["an unknown kind", { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } }, /unknown kind apps\/v1\/Deploymnet/],
      ["a kind at the wrong apiVersion", { ...dep, apiVersion: "extensions/v1beta1" }, /unknown kind extensions\/v1beta1\/Deployment/],
    ];
    const results = validateManifests(cases.map(([what, object]) => ({ where: what, object })));
    results.forEach((r, i) => {
      const [what, , why] = cases[i];
      expect({ what, caught: r.problems.some((p) => why.test(p)), problems: r.problems }).toEqual({ what, caught: true, problems: expect.any(Array) });
    });
    // and the unbroken original passes
    expect(validateManifests([{ where: "gateway", object: dep }])[0].problems).toEqual([]);
  });

  it("KINDS names only kinds that exist in kubernetes-models", () => {
    for (const { module } of Object.values(KINDS)) {
      expect(fs.existsSync(path.join(ROOT, "node_modules", `${module}.d.ts`))).toBe(true);
    }
  });

  it("what `kustomize build` renders (kubectl if installed, else namespace and images applied here) is valid and complete", () => {
    const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
    let rendered: Obj[];
    if (hasKubectl) {
      rendered = parseDocs(execFileSync("kubectl", ["kustomize", K8S], { maxBuffer: 64 * 1024 * 1024 }).toString(), "kustomize");
    } else {
      const image = kustomization.images.find((i: Json) => i.name === "mall");
      rendered = objects
        .filter((o) => listed.includes(o.__file))
        .map((o) => {
          const copy = JSON.parse(JSON.stringify(o)) as Obj;
          if (copy.kind !== "Namespace") copy.metadata.namespace = kustomization.namespace;
          for (const c of copy.spec?.template?.spec?.containers ?? []) if (c.image.split(":")[0] === "mall") c.image = `${image.newName}:${image.newTag}`;
          return copy;
        });
    }
    const expected = objects.filter((o) => listed.includes(o.__file)).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(expected);
    const invalid = validateManifests(rendered.map((o) => ({ where: `${o.kind}/${o.metadata.name}`, object: { ...o, __file: undefined } }))).filter((r) => r.problems.length);
    expect(invalid).toEqual([]);
    const image = kustomization.images.find((i: Json) => i.name === "mall");
    for (const w of podWorkloads(rendered)) {
      for (const c of containersOf(w)) if (c.name === "mall" || c.name === "migrate") expect(c.image).toBe(`${image.newName}:${image.newTag}`);
    }
  });
});

describe("k8s/: files", () => {
  it("has the namespace, config, secret, NetworkPolicies, NATS, migration job, the node groups and the gateway HPA", () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/mall",
        "ConfigMap/mall-config",
        "Secret/mall-secrets",
        "StatefulSet/nats",
        "Service/nats",
        "Service/nats-headless",
        "ConfigMap/nats-config",
        "Job/mall-migrate",
        "Deployment/mall-gateway",
        "Service/mall-gateway",
        "HorizontalPodAutoscaler/mall-gateway",
        "Deployment/mall-users",
        "NetworkPolicy/mall-nats-clients",
      ]),
    );
  });

  it("namespaced objects live in the mall namespace and carry part-of: mall", () => {
    for (const o of all.filter((x) => x.kind !== "Kustomization")) {
      if (o.kind === "Namespace") continue;
      expect({ o: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({ o: `${o.kind}/${o.metadata.name}`, ns: "mall" });
      expect({ o: `${o.kind}/${o.metadata.name}`, partOf: o.metadata.labels?.["app.kubernetes.io/part-of"] }).toEqual({
        o: `${o.kind}/${o.metadata.name}`,
        partOf: "mall",
      });
    }
  });

  it("kustomization.yaml lists every manifest except the example Secret (never overwrite the real one) and those of services still to come", () => {
    for (const f of listed) expect(files).toContain(f);
    expect(listed).not.toContain("secret.yaml");
    expect(kustomization.namespace).toBe("mall");
    expect(kustomization.images.map((i: Json) => i.name)).toContain("mall");
  });

  it("a manifest left out of kustomization.yaml is a node group whose services do not exist yet (add it when they land)", () => {
    const existing = serviceNames();
    for (const f of upcomingFiles) {
      const deps = all.filter((o) => o.__file === f && o.kind === "Deployment");
      expect({ f, deployments: deps.length > 0 }).toEqual({ f, deployments: true });
      for (const d of deps) {
        // when services/<name>/ appears, this fails: add k8s/<file> to kustomization.yaml's resources
        expect({ f, alreadyExist: servicesOf(d).filter((s) => existing.includes(s)) }).toEqual({ f, alreadyExist: [] });
      }
    }
  });
});

describe("k8s/: workloads of the Mall image", () => {
  it.each(mallWorkloads.map((o) => [`${o.kind}/${o.metadata.name}`, o]))("%s: image, resources, securityContext", (_n, o) => {
    const w = o as Obj;
    for (const c of containersOf(w)) {
      expect(typeof c.image).toBe("string");
      expect(c.image).toMatch(/^[\w./-]+(:[\w.-]+)?(@sha256:[a-f0-9]+)?$/);
      expect(c.image).not.toMatch(/:latest$/);
      for (const k of ["requests", "limits"]) {
        expect(c.resources?.[k]?.cpu).toBeDefined();
        expect(c.resources?.[k]?.memory).toBeDefined();
      }
    }
  });

  it.each(podWorkloads(all).map((o) => [`${o.__file} ${o.kind}/${o.metadata.name}`, o]))(
    "%s: non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp",
    (_n, o) => {
      const pod = (o as Obj).spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext?.capabilities?.drop).toEqual(["ALL"]);
        expect(c.securityContext?.privileged).toBeUndefined();
      }
    },
  );

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: settings from the ConfigMap, every secret by secretKeyRef to a key of the Secret", (_n, d) => {
    for (const c of containersOf(d as Obj)) {
      const from = (c.envFrom ?? []) as Json[];
      expect(from.some((e) => e.configMapRef?.name === "mall-config")).toBe(true);
      // secretKeyRef, not envFrom: a Secret without one of these keys must stop the pod, not let it
      // start on a fallback (no REDIS_URL = a private in-memory cache and token revocation list)
      expect(from.some((e) => e.secretRef)).toBe(false);
      const refs = secretRefs(c);
      const required = refs.filter((r) => !r.optional).map((r) => r.key);
      expect(required.sort()).toEqual(["DATABASE_URL", "JWT_SECRET", "NATS_PASSWORD", "REDIS_URL", "SANDBOX_SECRET"]);
      for (const r of refs) {
        expect(r.name).toBe("mall-secrets");
        if (!r.optional) expect(Object.keys(secret.stringData)).toContain(r.key);
      }
    }
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
    // a new services/<name>/<name>.service.ts needs a Deployment: its k8s/<name>.yaml in kustomization.yaml, or a SERVICES entry
    expect({ notInAnyDeployment: serviceNames().filter((s) => !deployed.includes(s)) }).toEqual({ notInAnyDeployment: [] });
    expect(deployed.filter((s, i) => deployed.indexOf(s) !== i)).toEqual([]);
  });

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: its full environment parses as the cluster shape, with NATS auth", (_n, d) => {
    const cfg = parseConfig(podEnv(containersOf(d as Obj)[0]));
    expect(cfg.shape).toBe("cluster");
    expect(cfg.migrateOnStart).toBe(false);
    expect(cfg.natsTransport).toEqual({ servers: ["nats:4222"], user: "mall", pass: REAL_SECRET.NATS_PASSWORD });
    expect(cfg.natsChannels).toEqual(cfg.natsTransport);
    expect(cfg.redisUrl).toBe(REAL_SECRET.REDIS_URL);
    expect(cfg.databaseUrl).toBe(REAL_SECRET.DATABASE_URL);
  });

  it("no Mall workload turns the sandbox payment provider on (its pay page lets a customer mark an order paid)", () => {
    for (const w of mallWorkloads) {
      const env = podEnv(containersOf(w)[0]);
      expect({ w: w.metadata.name, SANDBOX_ENABLED: env.SANDBOX_ENABLED ?? "false" }).toEqual({ w: w.metadata.name, SANDBOX_ENABLED: "false" });
    }
    expect(readRoot("k8s/configmap.yaml")).toMatch(/SANDBOX_ENABLED[^\n]*\n[^\n]*mark their own order paid/);
  });

  it.each(deployments.map((d) => [d.metadata.name, d]))("%s: selector matches the pod labels", (_n, d) => {
    const dep = d as Obj;
    expect(Object.keys(dep.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(matches(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels)).toBe(true);
  });

  it("each Deployment's selector picks only its own pods", () => {
    const pods = podWorkloads(all.filter((o) => o.kind !== "Kustomization"));
    for (const d of ofKind("Deployment", all)) {
      const others = pods.filter((x) => x !== d && matches(d.spec.selector.matchLabels, x.spec.template.metadata.labels));
      expect({ d: d.metadata.name, others: others.map((o) => o.metadata.name) }).toEqual({ d: d.metadata.name, others: [] });
    }
  });
});

describe("k8s/: scaling and disruption", () => {
  const everyDeployment = ofKind("Deployment", all);
  const hpas = ofKind("HorizontalPodAutoscaler", all);

  it.each(everyDeployment.map((d) => [d.metadata.name, d]))("%s: fixed replicas (≥ 2) unless an HPA scales it, then none", (_n, d) => {
    const dep = d as Obj;
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === dep.metadata.name);
    // a fixed count would be re-applied on every `kubectl apply`, undoing the autoscaler
    if (hpa) expect(dep.spec.replicas).toBeUndefined();
    else expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it("the gateway has an HPA now; the seckill manifest has one ready", () => {
    const targets = hpas.map((h) => h.spec.scaleTargetRef.name);
    expect(targets).toEqual(expect.arrayContaining(["mall-gateway", "mall-seckill"]));
  });

  it.each(hpas.map((h) => [h.metadata.name, h]))("%s: scales an existing Deployment on CPU, which has CPU requests", (_n, h) => {
    const hpa = h as Obj;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    const target = everyDeployment.find((d) => d.metadata.name === hpa.spec.scaleTargetRef.name && d.__file === hpa.__file)!;
    expect(target).toBeDefined();
    expect(hpa.spec.scaleTargetRef.apiVersion).toBe("apps/v1");
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.some((m: Json) => m.resource?.name === "cpu")).toBe(true);
    for (const c of containersOf(target)) expect(c.resources.requests.cpu).toBeDefined();
  });

  it.each(everyDeployment.map((d) => [d.metadata.name, d]))("%s: a PodDisruptionBudget in the same file covers exactly its pods", (_n, d) => {
    const dep = d as Obj;
    const pdbs = ofKind("PodDisruptionBudget", all).filter((p) => matches(p.spec.selector.matchLabels, dep.spec.template.metadata.labels));
    expect(pdbs.map((p) => p.__file)).toEqual([dep.__file]);
    const others = everyDeployment.filter((x) => x !== dep && matches(pdbs[0].spec.selector.matchLabels, x.spec.template.metadata.labels));
    expect(others).toEqual([]);
    // one pod at a time: with maxUnavailable a drain never blocks on a group that has only one ready pod
    expect(pdbs[0].spec.maxUnavailable).toBe(1);
  });

  it("PVCs referenced by workloads exist", () => {
    for (const d of deployments) {
      for (const v of d.spec.template.spec.volumes ?? []) {
        if (v.persistentVolumeClaim) expect(byName("PersistentVolumeClaim", v.persistentVolumeClaim.claimName)).toBeDefined();
      }
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
    for (const d of ofKind("Deployment", all)) {
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

  it("exec probes and commands run scripts that `npm run build` produces, and the node probe has metrics on", () => {
    for (const w of [...ofKind("Deployment", all), ...ofKind("Job", all)]) {
      for (const c of containersOf(w)) {
        const commands = [c.readinessProbe?.exec?.command, c.livenessProbe?.exec?.command, c.command].filter(Boolean) as string[][];
        for (const cmd of commands) {
          expect(cmd[0]).toBe("node");
          const src = path.relative(ROOT, sourceOfDist(cmd[1]));
          expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
          expect(isBuilt(src)).toBe(true);
          if (cmd[2] === "node") expect(parseConfig(podEnv(c)).metricsPort).toBe(portNumber(c, "metrics"));
        }
      }
    }
  });

  it("named probe ports exist on the container", () => {
    for (const o of podWorkloads(all)) {
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
    for (const k of ["JWT_SECRET", "SANDBOX_SECRET", "DATABASE_URL", "REDIS_URL", "NATS_PASSWORD", "NATS_TOKEN", "ADMIN_PASSWORD"]) expect(configMap.data).not.toHaveProperty(k);
    for (const v of Object.values(configMap.data) as string[]) expect(v).not.toMatch(/:\/\/[^/@\s]*@/);
  });

  it("Secret has every key the pods require, all known config keys", () => {
    expect(secret.data).toBeUndefined(); // stringData only, readable placeholders
    expect(Object.keys(secret.stringData).sort()).toEqual(["DATABASE_URL", "JWT_SECRET", "NATS_PASSWORD", "REDIS_URL", "SANDBOX_SECRET"]);
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

  it.each(["JWT_SECRET", "SANDBOX_SECRET", "NATS_PASSWORD"])("a node given the example Secret's %s refuses to start", (key) => {
    const env = podEnv(containersOf(gateway)[0], { ...REAL_SECRET, [key]: secret.stringData[key] });
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(/placeholder/);
  });
});

describe("k8s/: NATS", () => {
  const sts = byName("StatefulSet", "nats")!;
  const c = containersOf(sts)[0];
  const natsConf: string = byName("ConfigMap", "nats-config")!.data["nats.conf"];

  it("the StatefulSet is governed by a headless Service that selects its pods", () => {
    const headless = byName("Service", sts.spec.serviceName)!;
    expect(headless).toBeDefined();
    expect(headless.spec.clusterIP).toBe("None");
    expect(matches(headless.spec.selector, sts.spec.template.metadata.labels)).toBe(true);
    expect(matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
  });

  it("the nodes reach it through the `nats` Service on 4222 (TRANSPORTER and CHANNELS_URL)", () => {
    expect(new URL(configMap.data.TRANSPORTER).hostname).toBe("nats");
    expect(configMap.data.CHANNELS_URL).toBe(configMap.data.TRANSPORTER);
    const svc = byName("Service", "nats")!;
    expect(matches(svc.spec.selector, sts.spec.template.metadata.labels)).toBe(true);
    expect(portNumber(c, svc.spec.ports.find((p: Json) => p.port === 4222).targetPort)).toBe(4222);
  });

  it("requires the user and password the Mall nodes use (NATS_USER from the ConfigMap, NATS_PASSWORD from the Secret)", () => {
    const args: string[] = c.args;
    expect(args[args.indexOf("--user") + 1]).toBe("$(NATS_USER)");
    expect(args[args.indexOf("--pass") + 1]).toBe("$(NATS_PASSWORD)");
    const env = Object.fromEntries((c.env as Json[]).map((e) => [e.name, e.valueFrom]));
    expect(env.NATS_USER.configMapKeyRef).toEqual({ name: "mall-config", key: "NATS_USER" });
    expect(env.NATS_PASSWORD.secretKeyRef).toEqual({ name: "mall-secrets", key: "NATS_PASSWORD" });
    expect(podEnv(c).NATS_USER).toBe(configMap.data.NATS_USER);
  });

  it("JetStream stores on the PVC, sized: max_file_store fits in the volume with headroom", () => {
    const store = /store_dir:\s*(\S+)/.exec(natsConf)![1];
    const mount = c.volumeMounts.find((m: Json) => m.mountPath === store);
    expect(mount).toBeDefined();
    const claim = sts.spec.volumeClaimTemplates.find((t: Json) => t.metadata.name === mount.name);
    expect(claim).toBeDefined();
    const pvc = bytes(claim.spec.resources.requests.storage);
    const maxFile = bytes(/max_file_store:\s*(\S+)/.exec(natsConf)![1]);
    expect(maxFile).toBeLessThanOrEqual(0.9 * pvc);
    expect(maxFile).toBeGreaterThanOrEqual(0.5 * pvc);
    expect(natsConf).toMatch(/max_memory_store:/);
    expect(bytes(/max_memory_store:\s*(\S+)/.exec(natsConf)![1])).toBeLessThan(bytes(c.resources.limits.memory));
    expect(c.args).toEqual(expect.arrayContaining(["--config", "/etc/nats/nats.conf"]));
  });

  it("nats.conf is accepted by nats-server (-t), with the same flags", () => {
    const bin = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"].find((p) => fs.existsSync(p));
    expect(bin).toBeDefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-natsconf-"));
    try {
      let conf = natsConf.replace(/store_dir:\s*\S+/, `store_dir: ${dir}/js`);
      const version = /v(\d+)\.(\d+)/.exec(execFileSync(bin!, ["--version"]).toString())!;
      // sync_interval arrived in nats-server 2.10 (the image's version); an older local binary only checks the rest
      if (Number(version[1]) === 2 && Number(version[2]) < 10) conf = conf.replace(/^\s*sync_interval:.*$/m, "");
      fs.writeFileSync(path.join(dir, "nats.conf"), conf);
      const r = spawnSync(bin!, ["-t", "-c", path.join(dir, "nats.conf"), "--server_name", "nats-0", "--user", "mall", "--pass", "9e8d7c6b5a493827"], { encoding: "utf8" });
      expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: expect.any(String) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("k8s/: NetworkPolicy", () => {
  const natsPod = byName("StatefulSet", "nats")!.spec.template.metadata.labels;
  const mysqlPod = { "app.kubernetes.io/name": "mysql" };
  const redisPod = { "app.kubernetes.io/name": "redis" };
  const stranger = { app: "something-else" };
  const mallPods = mallWorkloads.map((w) => [w.metadata.name, w.spec.template.metadata.labels] as const);

  it.each(mallPods)("%s pods reach NATS 4222, MySQL 3306 and Redis 6379", (_n, labels) => {
    expect(admits(natsPod, labels, 4222)).toBe(true);
    expect(admits(mysqlPod, labels, 3306)).toBe(true);
    expect(admits(redisPod, labels, 6379)).toBe(true);
  });

  it("any other pod reaches none of them, on any port", () => {
    for (const [dst, ports] of [[natsPod, [4222, 8222, 6222]], [mysqlPod, [3306]], [redisPod, [6379]]] as const) {
      for (const port of ports) expect({ dst, port, open: admits(dst, stranger, port) }).toEqual({ dst, port, open: false });
    }
    // NATS's cluster and monitoring ports are closed to Mall pods too (kubelet probes come from the node)
    expect(admits(natsPod, gateway.spec.template.metadata.labels, 8222)).toBe(false);
  });

  it("the gateway takes HTTP from anywhere; the other nodes only their metrics port", () => {
    const gw = gateway.spec.template.metadata.labels;
    expect(admits(gw, stranger, 3000)).toBe(true);
    expect(admits(gw, stranger, 3030)).toBe(true);
    for (const d of deployments.filter((x) => x !== gateway)) {
      const labels = d.spec.template.metadata.labels;
      expect({ d: d.metadata.name, http: admits(labels, stranger, 3000), metrics: admits(labels, stranger, 3030) }).toEqual({ d: d.metadata.name, http: false, metrics: true });
    }
  });

  it("policies use ports the pods really listen on", () => {
    const gwPorts = containersOf(gateway)[0].ports.map((p: Json) => p.containerPort);
    expect(gwPorts).toEqual(expect.arrayContaining([3000, 3030]));
    expect(containersOf(byName("StatefulSet", "nats")!)[0].ports.map((p: Json) => p.containerPort)).toContain(4222);
  });
});

describe("k8s/: Services and the migration Job", () => {
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

  it("the migration Job runs the compiled migrate script once, never restarting in place, with only the database URL", () => {
    const job = byName("Job", "mall-migrate")!;
    const c = containersOf(job)[0];
    expect(c.command).toEqual(["node", "dist/bin/migrate.js"]);
    expect(path.relative(ROOT, sourceOfDist(c.command[1]))).toBe(path.join("bin", "migrate.ts"));
    expect(JSON.parse(readRoot("package.json")).scripts.migrate).toMatch(/bin\/migrate\.ts/);
    expect(["Never", "OnFailure"]).toContain(job.spec.template.spec.restartPolicy);
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(secretRefs(c).map((r) => r.key)).toEqual(["DATABASE_URL"]);
    expect(parseConfig(podEnv(c)).databaseUrl).toBe(REAL_SECRET.DATABASE_URL);
  });
});
