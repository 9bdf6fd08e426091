import { ActionInfo, AliasInfo, buildOpenApi, expandShorthand, isOptional, toJsonSchema } from "../../services/api/openapi";

type Json = Record<string, any>;

function doc(aliases: AliasInfo[], actions: ActionInfo[]): Json {
  return buildOpenApi({ title: "t", version: "v1", aliases, actions: new Map(actions.map((a) => [a.name, a])) });
}

describe("fastest-validator shorthand expansion", () => {
  it("type, flags and numeric options", () => {
    expect(expandShorthand("string|min:3|max:32|optional")).toEqual({ type: "string", min: 3, max: 32, optional: true });
    expect(toJsonSchema("string|min:3|max:32")).toEqual({ type: "string", minLength: 3, maxLength: 32 });
    expect(toJsonSchema("number|integer:true|min:1|convert:true")).toEqual({ type: "integer", minimum: 1 });
    expect(toJsonSchema("boolean")).toEqual({ type: "boolean" });
    expect(toJsonSchema("email")).toEqual({ type: "string", format: "email" });
  });

  it("trims parts like fastest-validator does", () => {
    expect(expandShorthand(" string | min: 8 | optional ")).toEqual({ type: "string", min: 8, optional: true });
    expect(isOptional("string | optional")).toBe(true);
    expect(toJsonSchema("string | min: 8")).toEqual({ type: "string", minLength: 8 });
  });

  it("keeps everything after the first colon (patterns may contain colons)", () => {
    expect(expandShorthand("string|pattern:^\\d{2}:\\d{2}$")).toEqual({ type: "string", pattern: "^\\d{2}:\\d{2}$" });
    expect(toJsonSchema("string|pattern:^\\d{2}:\\d{2}$").pattern).toBe("^\\d{2}:\\d{2}$");
  });

  it("'no-x' sets x to false and 'type[]' is an array of that type", () => {
    expect(expandShorthand("string|no-empty")).toEqual({ type: "string", empty: false });
    expect(expandShorthand("number[]")).toEqual({ type: "array", items: "number" });
    expect(toJsonSchema("string[]")).toEqual({ type: "array", items: { type: "string" } });
  });

  it("optional: an explicit flag or a default value", () => {
    expect(isOptional("string")).toBe(false);
    expect(isOptional("string|optional")).toBe(true);
    expect(isOptional({ type: "number", default: 1 })).toBe(true);
    expect(isOptional({ type: "number", optional: false })).toBe(false);
  });
});

describe("rule objects → JSON Schema", () => {
  it("numbers: integer, bounds and positive (OpenAPI 3.0 boolean exclusiveMinimum)", () => {
    expect(toJsonSchema({ type: "number", integer: true, positive: true, convert: true })).toEqual({ type: "integer", minimum: 0, exclusiveMinimum: true });
    expect(toJsonSchema({ type: "number", integer: true, positive: true, min: 5 })).toEqual({ type: "integer", minimum: 5 });
    expect(toJsonSchema({ type: "number", min: 0, max: 99 })).toEqual({ type: "number", minimum: 0, maximum: 99 });
  });

  it("enum, equal, strings with formats and length", () => {
    expect(toJsonSchema({ type: "enum", values: ["sandbox", "wallet"] })).toEqual({ enum: ["sandbox", "wallet"] });
    expect(toJsonSchema({ type: "equal", value: true })).toEqual({ enum: [true] });
    expect(toJsonSchema({ type: "string", length: 6, numeric: true })).toEqual({ type: "string", minLength: 6, maxLength: 6, pattern: "^[0-9]+$" });
    expect(toJsonSchema({ type: "string", pattern: /^[a-z]+$/ })).toEqual({ type: "string", pattern: "^[a-z]+$" });
    expect(toJsonSchema({ type: "url" })).toEqual({ type: "string", format: "uri" });
    expect(toJsonSchema({ type: "date", convert: true })).toEqual({ type: "string", format: "date-time" });
  });

  it("arrays and nested objects with required properties", () => {
    const s = toJsonSchema({
      type: "array",
      min: 1,
      max: 50,
      items: { type: "object", strict: true, props: { skuId: "number|integer|positive", quantity: { type: "number", default: 1 } } },
    });
    expect(s).toEqual({
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["skuId"],
        properties: { skuId: { type: "integer", minimum: 0, exclusiveMinimum: true }, quantity: { type: "number", default: 1 } },
      },
    });
  });

  it("nested object shorthand with $$type", () => {
    const rule = { $$type: "object|optional", city: "string", zip: "string|optional" };
    expect(isOptional(rule)).toBe(true);
    expect(toJsonSchema(rule)).toEqual({ type: "object", required: ["city"], properties: { city: { type: "string" }, zip: { type: "string" } } });
  });

  it("several rules are oneOf; nullable, description and static defaults pass through", () => {
    expect(toJsonSchema(["string", "number"])).toEqual({ oneOf: [{ type: "string" }, { type: "number" }] });
    expect(toJsonSchema({ type: "string", nullable: true, description: "d", default: "x" })).toEqual({ type: "string", nullable: true, description: "d", default: "x" });
    expect(toJsonSchema({ type: "number", default: () => 1 })).toEqual({ type: "number" });
    expect(toJsonSchema({ type: "any" })).toEqual({});
  });
});

describe("buildOpenApi", () => {
  const actions: ActionInfo[] = [
    {
      name: "users.register",
      auth: false,
      summary: "Register",
      params: { username: "string|min:3", password: "string|min:8", email: "email", mobile: "string|optional", $$strict: "remove" },
    },
    { name: "users.me", summary: "Profile" },
    { name: "catalog.list", auth: "optional", params: { q: "string|optional", page: { type: "number", integer: true, min: 1, default: 1, convert: true } } },
    {
      name: "users.updateAddress",
      params: { id: { type: "number", integer: true, positive: true, convert: true }, city: "string|optional", detail: "string" },
    },
    { name: "users.deleteAddress", params: { id: { type: "number", integer: true, positive: true, convert: true }, force: "boolean|optional" } },
    { name: "users.setRoles", roles: ["admin"], params: { id: "number|integer|positive|convert", roles: { type: "array", items: "string" } } },
    { name: "catalog.sku", auth: false, params: { id: "number", skuId: "number" }, tags: ["products"], description: "One SKU" },
    { name: "catalog.addSku", idempotent: true, params: { id: "number|integer|positive|convert", skuCode: "string" } },
  ];
  const aliases: AliasInfo[] = [
    { method: "POST", path: "/api/v1/auth/register", action: "users.register" },
    { method: "GET", path: "/api/v1/users/me", action: "users.me" },
    { method: "GET", path: "/api/v1/products", action: "catalog.list" },
    { method: "PATCH", path: "/api/v1/users/me/addresses/:id", action: "users.updateAddress" },
    { method: "DELETE", path: "/api/v1/users/me/addresses/:id", action: "users.deleteAddress" },
    { method: "PUT", path: "/api/v1/admin/users/:id/roles", action: "users.setRoles" },
    { method: "GET", path: "/api/v1/products/:id/skus/:skuId", action: "catalog.sku" },
    { method: "POST", path: "/api/v1/products/:id/skus", action: "catalog.addSku" },
    { method: "GET", path: "/api/v1/ghost", action: "ghost.action" },
  ];
  const d = doc(aliases, actions);

  it("is an OpenAPI 3.0 document with the envelope schemas and bearer security scheme", () => {
    expect(d.openapi).toMatch(/^3\.0\./);
    expect(d.info).toEqual({ title: "t", version: "v1" });
    expect(d.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(d.components.schemas.Success.required).toEqual(["code", "message", "data", "traceId"]);
    expect(d.components.schemas.Error.required).toEqual(["code", "type", "message", "traceId"]);
  });

  it("skips aliases whose action is unknown", () => {
    expect(d.paths["/api/v1/ghost"]).toBeUndefined();
  });

  it("turns :params into {params} declared as required path parameters with their schema", () => {
    const op = d.paths["/api/v1/products/{id}/skus/{skuId}"].get;
    expect(op.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "number" } },
      { name: "skuId", in: "path", required: true, schema: { type: "number" } },
    ]);
    expect(d.paths["/api/v1/users/me/addresses/{id}"].patch.parameters[0]).toEqual({
      name: "id",
      in: "path",
      required: true,
      schema: { type: "integer", minimum: 0, exclusiveMinimum: true },
    });
  });

  it("POST/PUT/PATCH params go in a JSON body (path params and $$ keys excluded)", () => {
    const reg = d.paths["/api/v1/auth/register"].post;
    expect(reg.parameters).toEqual([]);
    const body = reg.requestBody.content["application/json"].schema;
    expect(body.type).toBe("object");
    expect(Object.keys(body.properties)).toEqual(["username", "password", "email", "mobile"]);
    expect(body.required).toEqual(["username", "password", "email"]);
    expect(body.properties.password).toEqual({ type: "string", minLength: 8 });

    const patch = d.paths["/api/v1/users/me/addresses/{id}"].patch;
    const pbody = patch.requestBody.content["application/json"].schema;
    expect(Object.keys(pbody.properties)).toEqual(["city", "detail"]);
    expect(pbody.required).toEqual(["detail"]);

    const put = d.paths["/api/v1/admin/users/{id}/roles"].put;
    expect(put.requestBody.content["application/json"].schema.properties.roles).toEqual({ type: "array", items: { type: "string" } });
  });

  it("GET/DELETE params go in the query string, required unless optional or defaulted", () => {
    const list = d.paths["/api/v1/products"].get;
    expect(list.requestBody).toBeUndefined();
    expect(list.parameters).toEqual([
      { name: "q", in: "query", required: false, schema: { type: "string" } },
      { name: "page", in: "query", required: false, schema: { type: "integer", minimum: 1, default: 1 } },
    ]);
    const del = d.paths["/api/v1/users/me/addresses/{id}"].delete;
    expect(del.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual(["path:id", "query:force"]);
    expect(del.requestBody).toBeUndefined();
  });

  it("an action without params has no body", () => {
    const me = d.paths["/api/v1/users/me"].get;
    expect(me.parameters).toEqual([]);
    expect(me.requestBody).toBeUndefined();
  });

  it("security follows auth: required by default, optional allows anonymous, false is public", () => {
    expect(d.paths["/api/v1/users/me"].get.security).toEqual([{ bearerAuth: [] }]);
    expect(d.paths["/api/v1/products"].get.security).toEqual([{}, { bearerAuth: [] }]);
    expect(d.paths["/api/v1/auth/register"].post.security).toEqual([]);
  });

  it("roles are listed as x-roles; summary, tags, description and operationId come from the action", () => {
    const put = d.paths["/api/v1/admin/users/{id}/roles"].put;
    expect(put["x-roles"]).toEqual(["admin"]);
    expect(put.security).toEqual([{ bearerAuth: [] }]);
    expect(d.paths["/api/v1/users/me"].get["x-roles"]).toBeUndefined();
    const sku = d.paths["/api/v1/products/{id}/skus/{skuId}"].get;
    expect(sku.operationId).toBe("catalog.sku");
    expect(sku.tags).toEqual(["products"]);
    expect(sku.description).toBe("One SKU");
    expect(d.paths["/api/v1/users/me"].get).toMatchObject({ operationId: "users.me", summary: "Profile", tags: ["users"] });
    expect(d.paths["/api/v1/products"].get.summary).toBe("catalog.list");
  });

  it("several methods on one path share the path item; every operation documents both envelopes", () => {
    expect(Object.keys(d.paths["/api/v1/users/me/addresses/{id}"]).sort()).toEqual(["delete", "patch"]);
    for (const item of Object.values(d.paths) as Json[]) {
      for (const op of Object.values(item) as Json[]) {
        expect(op.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Success" });
        expect(op.responses["4XX"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
      }
    }
  });

  it("actions marked idempotent declare the optional Idempotency-Key header after their path params; others do not", () => {
    const add = d.paths["/api/v1/products/{id}/skus"].post;
    expect(add.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual(["path:id", "header:Idempotency-Key"]);
    expect(add.parameters[1]).toMatchObject({ required: false, schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" } });
    expect(Object.keys(add.requestBody.content["application/json"].schema.properties)).toEqual(["skuCode"]);
    expect(d.paths["/api/v1/auth/register"].post.parameters).toEqual([]);
  });

  it("is plain JSON (serialisable without loss)", () => {
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});
