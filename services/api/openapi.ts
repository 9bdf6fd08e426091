/**
 * OpenAPI 3 document generated from what the gateway really serves: its aliases (method, path,
 * action) and each action's fastest-validator params, auth, roles, summary and `openapi`
 * declaration (success status, response schema from the contracts, headers, errors — see
 * services/shared/schema.ts). Nothing is hand-copied, so the document cannot drift from the code.
 */
import { ERRORS } from "../shared/errors";
import type { OpenApiMeta } from "../shared/schema";

export interface AliasInfo {
  method: string;
  path: string;
  action: string;
  /** moleculer-web alias type, e.g. "multipart" */
  type?: string;
}

export interface ActionInfo {
  name: string;
  params?: Record<string, unknown>;
  auth?: "required" | "optional" | false;
  roles?: string[];
  summary?: string;
  description?: string;
  tags?: string[];
  openapi?: OpenApiMeta;
  /** set by actions that replay their first answer for a repeated Idempotency-Key */
  idempotent?: boolean;
}

type Json = Record<string, unknown>;

/**
 * Expand a fastest-validator shorthand like "string|min:3|optional" the way fastest-validator's
 * parseShortHand does: trimmed parts, the value after the first ":", "no-x" = false, "type[]".
 */
export function expandShorthand(rule: string): Json {
  const [type, ...rest] = rule.split("|").map((s) => s.trim());
  const out: Json = type.endsWith("[]") ? { type: "array", items: type.slice(0, -2) } : { type };
  for (const part of rest) {
    const idx = part.indexOf(":");
    if (idx === -1) {
      if (part.startsWith("no-")) out[part.slice(3)] = false;
      else out[part] = true;
      continue;
    }
    const k = part.slice(0, idx).trim();
    const v = part.slice(idx + 1).trim();
    out[k] = v === "true" ? true : v === "false" ? false : v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
  }
  return out;
}

function normalise(rule: unknown): Json {
  if (typeof rule === "string") return expandShorthand(rule);
  if (Array.isArray(rule)) return { type: "multi", rules: rule.map(normalise) };
  const r = (rule ?? {}) as Json;
  // nested object shorthand: { $$type: "object|optional", street: "string", ... }
  if (typeof r.$$type === "string") {
    const { $$type, ...props } = r;
    return { ...expandShorthand($$type as string), props };
  }
  return r;
}

export function isOptional(rule: unknown): boolean {
  const r = normalise(rule);
  return r.optional === true || r.default !== undefined;
}

/** fastest-validator rule → JSON Schema. */
export function toJsonSchema(rule: unknown): Json {
  const r = normalise(rule);
  const s: Json = {};
  switch (r.type) {
    case "string":
    case "uuid":
    case "url":
    case "date":
    case "email": {
      s.type = "string";
      if (r.type === "email") s.format = "email";
      if (r.type === "url") s.format = "uri";
      if (r.type === "uuid") s.format = "uuid";
      if (r.type === "date") s.format = "date-time";
      if (typeof r.min === "number") s.minLength = r.min;
      if (typeof r.max === "number") s.maxLength = r.max;
      if (typeof r.length === "number") s.minLength = s.maxLength = r.length;
      // a RegExp arrives from another node as {} (JSON): only a real pattern is documented
      if (r.pattern instanceof RegExp) s.pattern = r.pattern.source;
      else if (typeof r.pattern === "string") s.pattern = r.pattern;
      if (Array.isArray(r.enum)) s.enum = r.enum;
      if (r.numeric === true) s.pattern = "^[0-9]+$";
      break;
    }
    case "number": {
      s.type = r.integer ? "integer" : "number";
      if (typeof r.min === "number") s.minimum = r.min;
      if (typeof r.max === "number") s.maximum = r.max;
      // OpenAPI 3.0: exclusiveMinimum is a boolean modifier of minimum
      if (r.positive && (typeof r.min !== "number" || r.min <= 0)) {
        s.minimum = 0;
        s.exclusiveMinimum = true;
      }
      if (r.negative && (typeof r.max !== "number" || r.max >= 0)) {
        s.maximum = 0;
        s.exclusiveMaximum = true;
      }
      break;
    }
    case "boolean":
      s.type = "boolean";
      break;
    case "enum":
      s.enum = r.values;
      break;
    case "equal":
      s.enum = [r.value];
      break;
    case "array": {
      s.type = "array";
      if (r.items) s.items = toJsonSchema(r.items);
      if (typeof r.min === "number") s.minItems = r.min;
      if (typeof r.max === "number") s.maxItems = r.max;
      break;
    }
    case "object": {
      Object.assign(s, objectSchema((r.props ?? r.properties) as Json | undefined));
      if (r.strict === true) s.additionalProperties = false;
      break;
    }
    case "record":
      s.type = "object";
      s.additionalProperties = r.value ? toJsonSchema(r.value) : {};
      break;
    case "multi":
      s.oneOf = (r.rules as unknown[]).map(toJsonSchema);
      break;
    case "any":
    default:
      break;
  }
  if (r.default !== undefined && typeof r.default !== "function") s.default = r.default;
  if (r.nullable) s.nullable = true;
  if (typeof r.description === "string") s.description = r.description;
  return s;
}

function objectSchema(props: Json | undefined): Json {
  const s: Json = { type: "object" };
  if (!props) return s;
  const properties: Json = {};
  const required: string[] = [];
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("$$")) continue;
    properties[k] = toJsonSchema(v);
    if (!isOptional(v)) required.push(k);
  }
  s.properties = properties;
  if (required.length) s.required = required;
  return s;
}


const METHOD_ORDER = ["get", "put", "post", "patch", "delete"];

/**
 * Error responses by status. Each is a shared component listing the error types the gateway
 * itself answers with; an operation that may answer other types (its `openapi.errors`) gets its
 * own response naming them all.
 */
const ERROR_RESPONSES: Record<string, { component: string; title: string; types: string[] }> = {
  "400": { component: "BadRequest", title: "Malformed request", types: ["BAD_REQUEST"] },
  "401": { component: "Unauthorized", title: "Not authenticated", types: ["UNAUTHORIZED", "TOKEN_INVALID", "TOKEN_REVOKED"] },
  "403": { component: "Forbidden", title: "Not allowed", types: ["FORBIDDEN"] },
  "404": { component: "NotFound", title: "Not found, or not the caller's", types: ["NOT_FOUND"] },
  "409": { component: "Conflict", title: "The current state does not allow this", types: ["CONFLICT"] },
  "413": { component: "PayloadTooLarge", title: "Too large", types: ["PAYLOAD_TOO_LARGE"] },
  "415": { component: "UnsupportedMediaType", title: "Unsupported media type", types: ["UNSUPPORTED_MEDIA_TYPE"] },
  "422": { component: "ValidationFailed", title: "Invalid parameters (`data` lists the offending fields)", types: ["VALIDATION_ERROR"] },
  "429": { component: "RateLimited", title: "Too many requests", types: ["RATE_LIMITED"] },
  "5XX": {
    component: "ServerError",
    title: "Server-side failure: INTERNAL_ERROR (500), SERVICE_UNAVAILABLE (503, a dependency is down or overloaded) or REQUEST_TIMEOUT (504)",
    types: [],
  },
};

const describeError = (title: string, types: string[]) => (types.length ? `${title}: ${types.join(", ")}.` : `${title}.`);

const TAG_DESCRIPTIONS: Record<string, string> = {
  users: "Accounts, sessions, profile, addresses and wallet",
  catalog: "Categories, brands, products, SKUs, reviews and image uploads",
  inventory: "Stock levels and movements (operator or admin)",
  cart: "The caller's shopping cart",
  orders: "Checkout, orders and after-sales refunds",
  payments: "Payments and the sandbox payment provider",
  marketing: "Coupons, promotions and points",
  seckill: "Flash sales",
  messages: "Message templates, inbox and notifications",
};

const DESCRIPTION = [
  "REST API of Mall, an open-source e-commerce back end. Generated from the running services, so it matches the code.",
  "",
  "**Envelope.** Every JSON answer is `{code, message, data, traceId}`: `code` 0 and `message` \"ok\" on success; on failure the HTTP status that fits and `{code, type, message, data, traceId}` (`ErrorEnvelope`), where `type` (e.g. `ORDER_STATE_CONFLICT`) and `code` are stable. `traceId` equals the `X-Request-Id` response header.",
  "",
  "**Auth.** `Authorization: Bearer <accessToken>` from `POST /api/v1/auth/login`. Operations marked with `x-roles` need one of those roles.",
  "",
  "**Conventions.** Money is integer minor units (fen) with a `currency`; times are ISO-8601 UTC; lists take `page` and `pageSize` (at most 100) and answer `{items, total, page, pageSize}`.",
].join("\n");

type Counter = { schemas: Record<string, Json>; responses: Set<string>; headers: Set<string> };

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * Replace every named schema (`s.named`, marked by its `title`) with a reference to
 * `components.schemas.<name>`. A second, different schema under a taken name stays inline.
 */
function hoist(schema: unknown, c: Counter): unknown {
  if (Array.isArray(schema)) return schema.map((x) => hoist(x, c));
  if (!schema || typeof schema !== "object") return schema;
  const node = schema as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "properties" && v && typeof v === "object") {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, hoist(ps, c)]));
    } else if (["items", "additionalProperties", "not", "allOf", "oneOf", "anyOf"].includes(k)) {
      out[k] = hoist(v, c);
    } else {
      out[k] = v;
    }
  }
  if (typeof node.title !== "string") return out;
  const taken = c.schemas[node.title];
  if (!taken) c.schemas[node.title] = out;
  else if (JSON.stringify(taken) !== JSON.stringify(out)) return out;
  return ref("schemas", node.title);
}

function successEnvelope(data: Json): Json {
  return {
    type: "object",
    required: ["code", "message", "data", "traceId"],
    properties: {
      code: { type: "integer", enum: [0] },
      message: { type: "string", enum: ["ok"] },
      data,
      traceId: { type: "string", description: "the request id (X-Request-Id)" },
    },
  };
}

function errorResponse(status: string, types: string[], c: Counter): Json {
  const def = ERROR_RESPONSES[status] ?? { component: `Error${status}`, title: `HTTP ${status}`, types: [] };
  if (JSON.stringify(types) === JSON.stringify(def.types)) {
    c.responses.add(status);
    return ref("responses", def.component);
  }
  c.headers.add("X-Request-Id");
  return {
    description: describeError(def.title, types),
    headers: { "X-Request-Id": ref("headers", "X-Request-Id") },
    content: { "application/json": { schema: ref("schemas", "ErrorEnvelope") } },
  };
}

function statusOf(type: string): string {
  const def = (ERRORS as Record<string, { status: number }>)[type];
  const status = def?.status ?? 400;
  return status >= 500 ? "5XX" : String(status);
}

function buildOperation(alias: AliasInfo, action: ActionInfo, method: string, c: Counter): { path: string; op: Json } {
  const meta: OpenApiMeta = action.openapi ?? {};
  const pathParams: string[] = [];
  const oaPath = alias.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name) => {
    pathParams.push(name);
    return `{${name}}`;
  });
  const params = (action.params ?? {}) as Json;
  const parameters: Json[] = pathParams.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: params[name] ? toJsonSchema(params[name]) : { type: "string" },
  }));
  const bodyProps: Json = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith("$") || pathParams.includes(k)) continue;
    if (method === "get" || method === "delete") {
      parameters.push({ name: k, in: "query", required: !isOptional(v), schema: toJsonSchema(v) });
    } else {
      bodyProps[k] = v;
    }
  }
  const idempotency = meta.idempotencyKey ?? (action.idempotent ? "optional" : undefined);
  if (idempotency) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: idempotency === "required",
      description: "Makes a retry safe: the same key with the same body answers the first result (with `Idempotent-Replayed: true`); with another body it is 409 IDEMPOTENCY_CONFLICT.",
      schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
    });
  }
  for (const h of meta.headers ?? []) {
    parameters.push({ name: h.name, in: "header", required: h.required ?? false, description: h.description, schema: { type: "string" } });
  }

  let requestBody: Json | undefined;
  const multipart = alias.type === "multipart";
  if (meta.body) {
    requestBody = { required: true, content: { [multipart ? "multipart/form-data" : "application/json"]: { schema: hoist(meta.body, c) } } };
  } else if (Object.keys(bodyProps).length) {
    const schema = objectSchema(bodyProps);
    // the gateway's validator rejects unknown fields unless the action opts out
    if (params.$$strict === undefined || params.$$strict === true) schema.additionalProperties = false;
    requestBody = { required: Array.isArray(schema.required), content: { "application/json": { schema } } };
  }

  const auth = action.auth === undefined ? "required" : action.auth;
  const errors = new Map<string, string[]>();
  const expect = (status: string, ...types: string[]) => {
    const list = errors.get(status) ?? [];
    for (const type of types) if (!list.includes(type)) list.push(type);
    errors.set(status, list);
  };
  if (requestBody && !multipart) expect("400", "BAD_REQUEST");
  if (idempotency) expect("400", "BAD_REQUEST", ...(idempotency === "required" ? ["IDEMPOTENCY_KEY_REQUIRED"] : []));
  if (auth !== false) expect("401", ...ERROR_RESPONSES["401"].types);
  if (action.roles?.length) expect("403", "FORBIDDEN");
  if (parameters.some((p) => p.in !== "header") || requestBody) expect("422", "VALIDATION_ERROR");
  for (const type of meta.errors ?? []) expect(statusOf(type), type);
  // a path names a resource: when the action names its own not-found type, that is the one
  if (pathParams.length && !errors.has("404")) expect("404", "NOT_FOUND");
  expect("429", "RATE_LIMITED");
  expect("5XX");

  c.headers.add("X-Request-Id");
  const successHeaders: Json = { "X-Request-Id": ref("headers", "X-Request-Id") };
  if (idempotency) {
    c.headers.add("Idempotent-Replayed");
    successHeaders["Idempotent-Replayed"] = ref("headers", "Idempotent-Replayed");
  }
  const content: Json = meta.raw?.length
    ? Object.fromEntries(meta.raw.map((type) => [type, { schema: { type: "string", format: "binary" } }]))
    : { "application/json": { schema: successEnvelope((hoist(meta.response, c) as Json | undefined) ?? {}) } };
  const responses: Json = {};
  for (const status of [meta.status ?? 200].flat()) {
    let headers = successHeaders;
    if (status === 201) {
      c.headers.add("Location");
      headers = { ...successHeaders, Location: ref("headers", "Location") };
    }
    responses[String(status)] = { description: status === 201 ? "Created" : status === 202 ? "Accepted" : "OK", headers, content };
  }
  const order = (s: string) => (s === "5XX" ? 599 : Number(s));
  for (const st of [...errors.keys()].sort((a, b) => order(a) - order(b))) responses[st] = errorResponse(st, errors.get(st)!, c);

  const op: Json = {
    operationId: alias.action,
    summary: action.summary ?? alias.action,
    tags: action.tags ?? [alias.action.split(".")[0]],
  };
  const description = [action.description, action.roles?.length ? `Roles: ${action.roles.join(" or ")}.` : undefined].filter(Boolean).join("\n\n");
  if (description) op.description = description;
  op.parameters = parameters;
  if (requestBody) op.requestBody = requestBody;
  op.responses = responses;
  if (auth === "required") op.security = [{ bearerAuth: [] }];
  else if (auth === "optional") op.security = [{}, { bearerAuth: [] }];
  else op.security = [];
  if (action.roles?.length) op["x-roles"] = action.roles;
  return { path: oaPath, op };
}

export function buildOpenApi(opts: {
  title: string;
  version: string;
  aliases: AliasInfo[];
  actions: Map<string, ActionInfo>;
  servers?: { url: string; description: string }[];
}): Json {
  const c: Counter = { schemas: {}, responses: new Set(), headers: new Set() };
  const paths: Record<string, Json> = {};
  for (const alias of opts.aliases) {
    const action = opts.actions.get(alias.action);
    if (!action) continue;
    const method = alias.method === "*" ? "post" : alias.method.toLowerCase();
    const { path, op } = buildOperation(alias, action, method, c);
    paths[path] = { ...(paths[path] ?? {}), [method]: op };
  }
  const sortedPaths = Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((p) => [p, Object.fromEntries(Object.entries(paths[p]).sort(([a], [b]) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b)))]),
  );
  const tags = [...new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op as Json).tags as string[])))].sort();

  const errorContent = { "application/json": { schema: ref("schemas", "ErrorEnvelope") } };
  const responses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES)
      .filter(([status]) => c.responses.has(status))
      .map(([, def]) => [
        def.component,
        { description: describeError(def.title, def.types), headers: { "X-Request-Id": ref("headers", "X-Request-Id") }, content: errorContent },
      ]),
  );
  const headers: Json = {};
  if (c.headers.has("X-Request-Id")) {
    headers["X-Request-Id"] = {
      description: "Id of this request (the client's own if it sent a valid one); also `traceId` in the body.",
      required: true,
      schema: { type: "string" },
    };
  }
  if (c.headers.has("Location")) {
    headers.Location = {
      description: "Where to read what was created: the resource itself where the API has a GET for it, else the list that holds it (services/shared/created.ts).",
      required: true,
      schema: { type: "string" },
    };
  }
  if (c.headers.has("Idempotent-Replayed")) {
    headers["Idempotent-Replayed"] = {
      description: "`true` when this answer repeats the result of an earlier request with the same Idempotency-Key; absent otherwise.",
      required: false,
      schema: { type: "string", enum: ["true"] },
    };
  }

  return {
    openapi: "3.0.3",
    info: {
      title: opts.title,
      version: opts.version,
      description: DESCRIPTION,
      license: { name: "MIT", url: "https://opensource.org/licenses/MIT" },
    },
    servers: opts.servers ?? [{ url: "/", description: "this gateway" }],
    tags: tags.map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? `Operations of the ${name} service` })),
    paths: sortedPaths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "access token from POST /api/v1/auth/login" } },
      schemas: {
        ErrorEnvelope: {
          type: "object",
          required: ["code", "type", "message", "data", "traceId"],
          properties: {
            code: { type: "integer", description: "stable number from the module's range (API.md)" },
            type: { type: "string", description: "stable SCREAMING_SNAKE_CASE name, e.g. ORDER_STATE_CONFLICT", pattern: "^[A-Z][A-Z0-9_]*$" },
            message: { type: "string" },
            data: { description: "details: an object, or for VALIDATION_ERROR a list of `{field, type, message}`" },
            traceId: { type: "string", description: "the request id (X-Request-Id)" },
          },
        },
        ...Object.fromEntries(Object.entries(c.schemas).sort(([a], [b]) => a.localeCompare(b))),
      },
      responses,
      headers,
    },
  };
}
