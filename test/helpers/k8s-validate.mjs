// Validates Kubernetes objects against the JSON schemas that ship with `kubernetes-models`
// (generated from the Kubernetes OpenAPI document). An ES module run as a child process by
// test/helpers/k8s-schema.ts, because kubernetes-models is ESM-only and Jest loads CommonJS.
// stdin: [{ id, module, kind, object }]; stdout: [{ id, errors: ["/spec/replicas must be integer", …] }]
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const { id, module, kind, object } of JSON.parse(input)) {
  const Model = (await import(module))[kind];
  try {
    new Model(object).validate();
    out.push({ id, errors: [] });
  } catch (err) {
    const details = err.errors ?? err.details;
    out.push({ id, errors: Array.isArray(details) ? details.map((e) => `${e.instancePath || "/"} ${e.message}`) : [String(err.message ?? err)] });
  }
}
process.stdout.write(JSON.stringify(out));
