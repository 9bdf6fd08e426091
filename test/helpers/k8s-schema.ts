/**
 * Kubernetes manifests checked the way kubeconform's strict mode does, offline: every object
 * against the JSON schema of its kind (from `kubernetes-models`, generated from the Kubernetes
 * OpenAPI document: types, formats, required fields), and — since those schemas allow unknown
 * fields, which the API server drops without a word — against the TypeScript interface generated
 * from the same document, where an unknown or misspelt field is an excess-property error.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import ts from "typescript";
import { ROOT } from "./config-keys";

/** Every kind our manifests may use: apiVersion/kind → its model. Anything else is an error. */
export const KINDS: Record<string, { module: string; kind: string }> = Object.fromEntries(
  [
    "v1/Namespace",
    "v1/ConfigMap",
    "v1/Secret",
    "v1/Service",
    "v1/PersistentVolumeClaim",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "batch/v1/Job",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "policy/v1/PodDisruptionBudget",
    "networking.k8s.io/v1/NetworkPolicy",
  ].map((k) => [k, { module: `kubernetes-models/${k}`, kind: k.split("/").pop()! }]),
);

export interface Manifest {
  /** where it came from, e.g. "gateway.yaml#2" */
  where: string;
  object: Record<string, unknown>;
}

/** Problems of each manifest (empty when valid), in input order. */
export function validateManifests(manifests: Manifest[]): { where: string; problems: string[] }[] {
  const results = manifests.map((m) => ({ where: m.where, problems: [] as string[] }));
  const known: number[] = [];
  manifests.forEach((m, i) => {
    const key = `${m.object.apiVersion}/${m.object.kind}`;
    if (KINDS[key]) known.push(i);
    else results[i].problems.push(`unknown kind ${key}: add it to KINDS in test/helpers/k8s-schema.ts if it is meant`);
  });
  for (const r of jsonSchemaErrors(known.map((i) => manifests[i]))) results[known[r.index]].problems.push(...r.errors);
  for (const r of excessFieldErrors(known.map((i) => manifests[i]))) results[known[r.index]].problems.push(r.error);
  return results;
}

function jsonSchemaErrors(manifests: Manifest[]): { index: number; errors: string[] }[] {
  const input = manifests.map((m, id) => ({ id, ...KINDS[`${m.object.apiVersion}/${m.object.kind}`], object: m.object }));
  const out = execFileSync(path.join(ROOT, "node_modules/.bin/node"), [path.join(__dirname, "k8s-validate.mjs")], {
    cwd: ROOT,
    input: JSON.stringify(input),
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out.toString()) as { id: number; errors: string[] }[]).map((r) => ({ index: r.id, errors: r.errors }));
}

function excessFieldErrors(manifests: Manifest[]): { index: number; error: string }[] {
  const file = path.join(ROOT, "__k8s_manifests__.ts");
  const imports: string[] = [];
  const decls: { start: number; end: number }[] = [];
  let body = "";
  manifests.forEach((m, i) => {
    const { module, kind } = KINDS[`${m.object.apiVersion}/${m.object.kind}`];
    imports.push(`import type { I${kind} as K${i} } from "${module}";`);
  });
  let src = imports.join("\n") + "\n";
  manifests.forEach((m, i) => {
    const line = `export const m${i}: K${i} = ${JSON.stringify(m.object)};\n`;
    decls.push({ start: src.length + body.length, end: src.length + body.length + line.length });
    body += line;
  });
  src += body;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    // the package is ESM-only ("exports" has only an import condition): resolve its files by path
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (path.resolve(name) === file ? ts.createSourceFile(name, src, lang) : getSourceFile(name, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  const errors: { index: number; error: string }[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    const index = d.file && path.resolve(d.file.fileName) === file ? decls.findIndex((r) => d.start! >= r.start && d.start! < r.end) : -1;
    if (index < 0) throw new Error(`cannot check manifests against the Kubernetes types: ${message}`);
    const near = src.slice(d.start!, d.start! + 40).split(/[,}]/)[0];
    errors.push({ index, error: `${message} (at ${near})` });
  }
  return errors;
}
