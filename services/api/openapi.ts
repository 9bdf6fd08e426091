/**
 * OpenAPI 3 document generated from what the gateway really serves: its aliases (method, path,
 * action) and each action's fastest-validator params, auth and roles. Nothing is hand-copied, so
 * the document cannot drift from the code.
 */

export interface AliasInfo {
  method: string;
  path: string;
  action: string;
}

export interface ActionInfo {
  name: string;
  params?: Record<string, unknown>;
  auth?: "required" | "optional" | false;
  roles?: string[];
  summary?: string;
  description?: string;
  tags?: string[];
  /** accepts Idempotency-Key (mixins/idempotency.middleware.ts) */
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
      if (r.pattern) s.pattern = String(r.pattern instanceof RegExp ? r.pattern.source : r.pattern);
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

const ERROR_REF = { $ref: "#/components/schemas/Error" };

const IDEMPOTENCY_KEY_PARAM = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "Retry safely: for 24 h the same key replays the first answer (header Idempotent-Replayed: true); another request with it is 409 IDEMPOTENCY_CONFLICT",
  schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
};

export function buildOpenApi(opts: { title: string; version: string; aliases: AliasInfo[]; actions: Map<string, ActionInfo> }): Json {
  const paths: Record<string, Json> = {};
  for (const alias of opts.aliases) {
    const action = opts.actions.get(alias.action);
    if (!action) continue;
    const method = alias.method === "*" ? "post" : alias.method.toLowerCase();
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
    if (action.idempotent) parameters.push(IDEMPOTENCY_KEY_PARAM);
    const bodyProps: Json = {};
    for (const [k, v] of Object.entries(params)) {
      if (k.startsWith("$$") || pathParams.includes(k)) continue;
      if (method === "get" || method === "delete") {
        parameters.push({ name: k, in: "query", required: !isOptional(v), schema: toJsonSchema(v) });
      } else {
        bodyProps[k] = v;
      }
    }
    const op: Json = {
      operationId: alias.action,
      summary: action.summary ?? alias.action,
      tags: action.tags ?? [alias.action.split(".")[0]],
      parameters,
      responses: {
        "200": { description: "success envelope", content: { "application/json": { schema: { $ref: "#/components/schemas/Success" } } } },
        "4XX": { description: "error envelope", content: { "application/json": { schema: ERROR_REF } } },
      },
    };
    if (action.description) op.description = action.description;
    if (Object.keys(bodyProps).length) {
      op.requestBody = { required: true, content: { "application/json": { schema: objectSchema(bodyProps) } } };
    }
    const auth = action.auth === undefined ? "required" : action.auth;
    if (auth === "required") op.security = [{ bearerAuth: [] }];
    else if (auth === "optional") op.security = [{}, { bearerAuth: [] }];
    else op.security = [];
    if (action.roles?.length) op["x-roles"] = action.roles;
    paths[oaPath] = { ...(paths[oaPath] ?? {}), [method]: op };
  }
  return {
    openapi: "3.0.3",
    info: { title: opts.title, version: opts.version },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Success: {
          type: "object",
          required: ["code", "message", "data", "traceId"],
          properties: { code: { type: "integer", enum: [0] }, message: { type: "string" }, data: {}, traceId: { type: "string" } },
        },
        Error: {
          type: "object",
          required: ["code", "type", "message", "traceId"],
          properties: {
            code: { type: "integer" },
            type: { type: "string" },
            message: { type: "string" },
            data: {},
            traceId: { type: "string" },
          },
        },
      },
    },
  };
}
