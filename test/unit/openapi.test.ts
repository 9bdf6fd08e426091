import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { ActionInfo, AliasInfo, buildOpenApi, expandShorthand, isOptional, toJsonSchema } from "../../services/api/openapi";
import { ERRORS } from "../../services/shared/errors";
import { s, schemaOf } from "../../services/shared/schema";
import { Shop, client, startShop } from "../helpers/shop";

const execFileP = promisify(execFile);

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

  it("records are objects of their value type; a pattern that crossed the wire as {} is left out", () => {
    expect(toJsonSchema({ type: "record", key: "string", value: { type: "string", max: 64 } })).toEqual({ type: "object", additionalProperties: { type: "string", maxLength: 64 } });
    // a RegExp in an action's params reaches a gateway on another node as {} (JSON)
    expect(toJsonSchema({ type: "string", pattern: {} })).toEqual({ type: "string" });
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

  it("is an OpenAPI 3.0 document with a license, the error envelope and the bearer security scheme", () => {
    expect(d.openapi).toMatch(/^3\.0\./);
    expect(d.info).toMatchObject({ title: "t", version: "v1", license: { name: "MIT", url: "https://opensource.org/licenses/MIT" } });
    expect(d.info.description).toContain("traceId");
    expect(d.servers).toEqual([{ url: "/", description: "this gateway" }]);
    expect(d.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(d.components.schemas.ErrorEnvelope.required).toEqual(["code", "type", "message", "data", "traceId"]);
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

  it("several methods on one path share the path item; every operation has an enveloped 200, X-Request-Id and error envelopes", () => {
    expect(Object.keys(d.paths["/api/v1/users/me/addresses/{id}"])).toEqual(["patch", "delete"]);
    for (const item of Object.values(d.paths) as Json[]) {
      for (const op of Object.values(item) as Json[]) {
        const ok = op.responses["200"];
        expect(ok.content["application/json"].schema.required).toEqual(["code", "message", "data", "traceId"]);
        expect(ok.content["application/json"].schema.properties.data).toEqual({});
        expect(ok.headers["X-Request-Id"]).toEqual({ $ref: "#/components/headers/X-Request-Id" });
        expect(op.responses["5XX"]).toEqual({ $ref: "#/components/responses/ServerError" });
        expect(op.responses["429"]).toEqual({ $ref: "#/components/responses/RateLimited" });
      }
    }
    expect(d.components.responses.ServerError.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ErrorEnvelope" });
  });

  it("error responses follow from auth, roles, path and params", () => {
    const codes = (op: Json) => Object.keys(op.responses).filter((s) => s !== "200");
    expect(codes(d.paths["/api/v1/auth/register"].post)).toEqual(["400", "422", "429", "5XX"]);
    expect(codes(d.paths["/api/v1/users/me"].get)).toEqual(["401", "429", "5XX"]);
    expect(codes(d.paths["/api/v1/admin/users/{id}/roles"].put)).toEqual(["400", "401", "403", "404", "422", "429", "5XX"]);
    expect(d.paths["/api/v1/users/me"].get.responses["401"]).toEqual({ $ref: "#/components/responses/Unauthorized" });
    expect(d.components.responses.Unauthorized.description).toBe("Not authenticated: UNAUTHORIZED, TOKEN_INVALID, TOKEN_REVOKED.");
  });

  it("paths are sorted; tags are declared with a description", () => {
    expect(Object.keys(d.paths)).toEqual([...Object.keys(d.paths)].sort());
    expect(d.tags).toEqual([
      { name: "catalog", description: expect.any(String) },
      { name: "products", description: "Operations of the products service" },
      { name: "users", description: expect.any(String) },
    ]);
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

describe("buildOpenApi: the action's openapi declaration", () => {
  const Order = schemaOf<{ orderNo: string; paidAt: string | null }>()(s.named("Order", s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()) })));
  const actions: ActionInfo[] = [
    {
      name: "orders.create",
      params: { addressId: "number", $$strict: true },
      openapi: { status: 201, response: Order, idempotencyKey: "required", errors: ["OUT_OF_STOCK", "ADDRESS_NOT_FOUND", "IDEMPOTENCY_CONFLICT"] },
    },
    { name: "orders.get", params: { orderNo: "string" }, openapi: { response: Order, errors: ["ORDER_NOT_FOUND"] } },
    { name: "orders.list", openapi: { response: s.page(Order) } },
    { name: "coupons.claim", idempotent: true, openapi: { status: 201 } },
    { name: "payments.create", openapi: { status: [201, 200], response: Order } },
    {
      name: "payments.notify",
      auth: false,
      params: { $$strict: "remove" },
      openapi: {
        body: s.object({ paymentNo: s.string() }),
        headers: [{ name: "X-Sandbox-Signature", required: true, description: "hex HMAC" }],
        errors: ["INVALID_SIGNATURE"],
      },
    },
    { name: "catalog.upload", roles: ["admin"], params: { $fieldname: "string|optional" }, openapi: { body: s.object({ file: s.binary() }) } },
    { name: "catalog.file", auth: false, params: { name: "string" }, openapi: { raw: ["image/png"] } },
  ];
  const aliases: AliasInfo[] = [
    { method: "POST", path: "/api/v1/orders", action: "orders.create" },
    { method: "GET", path: "/api/v1/orders/:orderNo", action: "orders.get" },
    { method: "GET", path: "/api/v1/orders", action: "orders.list" },
    { method: "POST", path: "/api/v1/coupons/claim", action: "coupons.claim" },
    { method: "POST", path: "/api/v1/payments", action: "payments.create" },
    { method: "POST", path: "/api/v1/payments/notify", action: "payments.notify" },
    { method: "POST", path: "/api/v1/uploads", action: "catalog.upload", type: "multipart" },
    { method: "GET", path: "/api/v1/uploads/:name", action: "catalog.file" },
  ];
  const d = doc(aliases, actions);
  const data = (op: Json, status: string) => op.responses[status].content["application/json"].schema.properties.data;

  it("status: the success response of a create is 201, not 200; several statuses are all declared", () => {
    const create = d.paths["/api/v1/orders"].post;
    expect(Object.keys(create.responses).filter((st) => st.startsWith("2"))).toEqual(["201"]);
    expect(create.responses["201"].description).toBe("Created");
    expect(Object.keys(d.paths["/api/v1/payments"].post.responses).filter((st) => st.startsWith("2"))).toEqual(["200", "201"]);
  });

  it("response: data is the declared schema; named schemas become components", () => {
    expect(data(d.paths["/api/v1/orders"].post, "201")).toEqual({ $ref: "#/components/schemas/Order" });
    expect(data(d.paths["/api/v1/orders/{orderNo}"].get, "200")).toEqual({ $ref: "#/components/schemas/Order" });
    expect(d.components.schemas.Order).toEqual({
      title: "Order",
      type: "object",
      required: ["orderNo", "paidAt"],
      properties: { orderNo: { type: "string" }, paidAt: { type: "string", format: "date-time", nullable: true } },
    });
    expect(data(d.paths["/api/v1/orders"].get, "200")).toMatchObject({
      required: ["items", "total", "page", "pageSize"],
      properties: { items: { type: "array", items: { $ref: "#/components/schemas/Order" } } },
    });
  });

  it("idempotencyKey / idempotent: the Idempotency-Key request header and the Idempotent-Replayed response header", () => {
    const create = d.paths["/api/v1/orders"].post;
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: true }));
    expect(create.responses["201"].headers["Idempotent-Replayed"]).toEqual({ $ref: "#/components/headers/Idempotent-Replayed" });
    const claim = d.paths["/api/v1/coupons/claim"].post;
    expect(claim.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
    expect(claim.responses["201"].headers["Idempotent-Replayed"]).toBeDefined();
    expect(d.paths["/api/v1/orders/{orderNo}"].get.parameters.some((p: Json) => p.in === "header")).toBe(false);
    expect(d.paths["/api/v1/orders/{orderNo}"].get.responses["200"].headers["Idempotent-Replayed"]).toBeUndefined();
  });

  it("errors: each declared type under its status, with the envelope; a declared not-found replaces the generic one", () => {
    const create = d.paths["/api/v1/orders"].post;
    expect(create.responses["409"].description).toBe("The current state does not allow this: OUT_OF_STOCK, IDEMPOTENCY_CONFLICT.");
    expect(create.responses["409"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ErrorEnvelope" });
    expect(create.responses["404"].description).toBe("Not found, or not the caller's: ADDRESS_NOT_FOUND.");
    expect(create.responses["400"].description).toBe("Malformed request: BAD_REQUEST, IDEMPOTENCY_KEY_REQUIRED.");
    expect(d.paths["/api/v1/orders/{orderNo}"].get.responses["404"].description).toBe("Not found, or not the caller's: ORDER_NOT_FOUND.");
    expect(d.paths["/api/v1/uploads/{name}"].get.responses["404"]).toEqual({ $ref: "#/components/responses/NotFound" });
  });

  it("a strict body rejects unknown fields", () => {
    expect(d.paths["/api/v1/orders"].post.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
  });

  it("body and headers: a signed raw-body webhook documents its body and signature header", () => {
    const notify = d.paths["/api/v1/payments/notify"].post;
    expect(notify.security).toEqual([]);
    expect(notify.parameters).toEqual([{ name: "X-Sandbox-Signature", in: "header", required: true, description: "hex HMAC", schema: { type: "string" } }]);
    expect(notify.requestBody.content["application/json"].schema).toEqual({ type: "object", required: ["paymentNo"], properties: { paymentNo: { type: "string" } } });
    expect(notify.responses["401"].description).toContain("INVALID_SIGNATURE");
  });

  it("multipart uploads and raw (not enveloped) answers", () => {
    const upload = d.paths["/api/v1/uploads"].post;
    expect(Object.keys(upload.requestBody.content)).toEqual(["multipart/form-data"]);
    expect(upload.requestBody.content["multipart/form-data"].schema.properties.file).toEqual({ type: "string", format: "binary" });
    expect(upload.parameters).toEqual([]);
    expect(upload.description).toBe("Roles: admin.");
    const file = d.paths["/api/v1/uploads/{name}"].get;
    expect(file.responses["200"].content).toEqual({ "image/png": { schema: { type: "string", format: "binary" } } });
  });

  it("only the components in use are published", () => {
    expect(d.components.headers["Idempotent-Replayed"]).toBeDefined();
    expect(Object.keys(doc([{ method: "GET", path: "/api/v1/x", action: "x.y" }], [{ name: "x.y", auth: false }]).components.headers)).toEqual(["X-Request-Id"]);
    expect(Object.keys(d.components.responses).sort()).toEqual(["BadRequest", "Forbidden", "NotFound", "RateLimited", "ServerError", "Unauthorized", "ValidationFailed"]);
  });
});

describe("response schemas (services/shared/schema.ts)", () => {
  it("builders produce plain OpenAPI 3.0 JSON Schema", () => {
    expect(s.object({ a: s.integer() }, { b: s.string() })).toEqual({ type: "object", required: ["a"], properties: { a: { type: "integer" }, b: { type: "string" } } });
    expect(s.object({}, { b: s.boolean() })).toEqual({ type: "object", properties: { b: { type: "boolean" } } });
    expect(s.nullable(s.enum(["A", "B"]))).toEqual({ type: "string", enum: ["A", "B", null], nullable: true });
    expect(s.nullable(s.named("Brand", s.object({ id: s.integer() })))).toEqual({ type: "object", required: ["id"], properties: { id: { type: "integer" } }, nullable: true });
    expect(s.record(s.string())).toEqual({ type: "object", additionalProperties: { type: "string" } });
    expect(s.ref("Node")).toEqual({ $ref: "#/components/schemas/Node" });
    const schema = s.named("X", s.object({ tags: s.array(s.string()), at: s.dateTime(), price: s.money() }));
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it("schemaOf<T>() compiles only for a schema of exactly T", () => {
    const schemaModule = path.resolve(__dirname, "../../services/shared/schema").replace(/\\/g, "/");
    const cases = [
      `export const good = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.integer() })) }, { payUrl: s.string() }));`,
      `export const missingField = schemaOf<Order>()(s.object({ paidAt: s.nullable(s.dateTime()), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.integer() })) }, { payUrl: s.string() }));`,
      `export const extraField = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.integer() })), extra: s.integer() }, { payUrl: s.string() }));`,
      `export const requiredNotOptional = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.integer() })), payUrl: s.string() }));`,
      `export const notNullable = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.dateTime(), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.integer() })) }, { payUrl: s.string() }));`,
      `export const widerEnum = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()), status: s.string(), lines: s.array(s.object({ skuId: s.integer() })) }, { payUrl: s.string() }));`,
      `export const nestedWrong = schemaOf<Order>()(s.object({ orderNo: s.string(), paidAt: s.nullable(s.dateTime()), status: s.enum(["PAID", "SHIPPED"]), lines: s.array(s.object({ skuId: s.string() })) }, { payUrl: s.string() }));`,
    ];
    const source = [
      `import { s, schemaOf } from "${schemaModule}";`,
      `interface Order { orderNo: string; paidAt: string | null; status: "PAID" | "SHIPPED"; lines: { skuId: number }[]; payUrl?: string }`,
      ...cases,
    ].join("\n");
    const lines = typeErrorLines({ "check.ts": source }, ["node"]);
    // line 3 is the good schema; every other case is rejected
    expect(lines).toEqual(cases.slice(1).map((_, i) => `check.ts:${i + 4}`));
  }, 60_000);
});

/** Type-check files in a temp dir; the file:line of each error. */
function typeErrorLines(files: Record<string, string>, types: string[] = []): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-tsc-"));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const program = ts.createProgram(
      Object.keys(files).map((f) => path.join(dir, f)),
      { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, lib: ["lib.es2022.d.ts"], types, typeRoots: [path.resolve(__dirname, "../../node_modules/@types")] },
    );
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `${d.file ? path.basename(d.file.fileName) : "?"}:${line}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the document the running shop serves", () => {
  let shop: Shop;
  let document: Json;
  let dir: string;

  beforeAll(async () => {
    shop = await startShop({ shape: "embedded" });
    const r = await client(shop).get("/api/openapi.json");
    expect(r.status).toBe(200);
    document = r.body;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-openapi-"));
    fs.writeFileSync(path.join(dir, "openapi.json"), JSON.stringify(document, null, 2));
  }, 60_000);

  afterAll(async () => {
    await shop?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const operations = () =>
    Object.entries(document.paths as Record<string, Json>).flatMap(([p, item]) => Object.entries(item).map(([method, op]) => ({ path: p, method, op: op as Json })));

  it("passes `redocly lint --extends recommended-strict` with no errors and no warnings", async () => {
    const cli = require.resolve("@redocly/cli/bin/cli.js");
    // telemetry and the update check are off, and a timeout bounds the run: CI has no network
    const { stdout } = await execFileP(process.execPath, [cli, "lint", "--extends", "recommended-strict", "--format", "json", "openapi.json"], {
      cwd: dir,
      timeout: 60_000,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_UPDATE_NOTIFIER: "1", CI: "true" },
    }).catch((err: { stdout?: string; message: string }) => {
      if (!err.stdout) throw err;
      return { stdout: err.stdout };
    });
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string; location: { pointer: string }[] }[] };
    expect(report.problems.map((pr) => `${pr.ruleId} ${pr.location[0]?.pointer}: ${pr.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 90_000);

  it("openapi-typescript generates types a client type-checks against, and a wrong field does not compile", async () => {
    // openapi-typescript is an ES module (jest's CommonJS runtime cannot load it): its Node API runs in a child
    const entry = pathToFileURL(path.join(path.dirname(require.resolve("openapi-typescript/package.json")), "dist/index.mjs")).href;
    const script = `import fs from "node:fs"; import openapiTS, { astToString } from ${JSON.stringify(entry)};
      fs.writeFileSync("mall.d.ts", astToString(await openapiTS(JSON.parse(fs.readFileSync("openapi.json", "utf8")))));`;
    await execFileP(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, timeout: 60_000, env: { ...process.env, REDOCLY_TELEMETRY: "off" } });
    const types = fs.readFileSync(path.join(dir, "mall.d.ts"), "utf8");
    const client = [
      `import type { paths, components } from "./mall";`,
      `type OrderData = paths["/api/v1/orders/{orderNo}"]["get"]["responses"][200]["content"]["application/json"]["data"];`,
      `export const orderNo: string = ({} as OrderData).orderNo;`,
      `export const paidAt: string | null = ({} as OrderData).paidAt;`,
      `export const created: components["schemas"]["Order"] = ({} as paths["/api/v1/orders"]["post"]["responses"][201]["content"]["application/json"]).data;`,
      `export const key: paths["/api/v1/orders"]["post"]["parameters"]["header"]["Idempotency-Key"] = "k1";`,
      `export const errorType: string = ({} as paths["/api/v1/orders/{orderNo}"]["get"]["responses"][404]["content"]["application/json"]).type;`,
      `export const status: "PENDING" | "SUCCEEDED" | "FAILED" | "CLOSED" = ({} as components["schemas"]["Payment"]).status;`,
    ].join("\n");
    const wrong = [
      `import type { paths } from "./mall";`,
      `type OrderData = paths["/api/v1/orders/{orderNo}"]["get"]["responses"][200]["content"]["application/json"]["data"];`,
      `export const nope = ({} as OrderData).noSuchField;`,
      `export const created = ({} as paths["/api/v1/orders"]["post"]["responses"][200]);`,
      `export const amount: string = ({} as OrderData).payable;`,
    ].join("\n");
    expect(typeErrorLines({ "mall.d.ts": types, "client.ts": client })).toEqual([]);
    expect(typeErrorLines({ "mall.d.ts": types, "wrong.ts": wrong })).toEqual(["wrong.ts:3", "wrong.ts:4", "wrong.ts:5"]);
  }, 90_000);

  it("every operation has a typed `data` schema, an operationId, a summary and error responses with the envelope", () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(50);
    const untyped = ops.filter(({ op }) => {
      const [status] = Object.keys(op.responses).filter((st) => st.startsWith("2"));
      const content = op.responses[status].content;
      return content["application/json"] && Object.keys(content["application/json"].schema.properties.data).length === 0;
    });
    // an action without `openapi.response` is documented as `data: {}`: give it one (CONTRIBUTING.md)
    expect(untyped.map(({ op }) => op.operationId)).toEqual([]);
    for (const { op } of ops) {
      expect(op.operationId).toMatch(/^[a-z]+\.[A-Za-z]+$/);
      expect(op.summary).toBeTruthy();
      const errorRefs = Object.entries(op.responses as Record<string, Json>).filter(([st]) => !st.startsWith("2"));
      expect(errorRefs.length).toBeGreaterThan(0);
    }
    const envelope = document.components.responses.RateLimited.content["application/json"].schema;
    expect(envelope).toEqual({ $ref: "#/components/schemas/ErrorEnvelope" });
    expect(document.components.schemas.ErrorEnvelope.required).toEqual(["code", "type", "message", "data", "traceId"]);
  });

  it("creates answer 201; checkout declares Idempotency-Key and Idempotent-Replayed; the sandbox callback its signature", () => {
    const successOf = (p: string, m: string) => Object.keys(document.paths[p][m].responses).filter((st) => st.startsWith("2"));
    for (const [p, m] of [
      ["/api/v1/auth/register", "post"],
      ["/api/v1/users/me/addresses", "post"],
      ["/api/v1/categories", "post"],
      ["/api/v1/brands", "post"],
      ["/api/v1/products", "post"],
      ["/api/v1/products/{id}/skus", "post"],
      ["/api/v1/products/{id}/reviews", "post"],
      ["/api/v1/uploads", "post"],
      ["/api/v1/orders", "post"],
      ["/api/v1/orders/{orderNo}/refund", "post"],
    ]) {
      expect([p, successOf(p, m)]).toEqual([p, ["201"]]);
    }
    expect(successOf("/api/v1/payments", "post")).toEqual(["200", "201"]);
    expect(successOf("/api/v1/orders/{orderNo}", "get")).toEqual(["200"]);

    const checkout = document.paths["/api/v1/orders"].post;
    expect(checkout.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: true }));
    expect(checkout.responses["201"].headers).toEqual({
      "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
      "Idempotent-Replayed": { $ref: "#/components/headers/Idempotent-Replayed" },
      Location: { $ref: "#/components/headers/Location" },
    });
    expect(checkout.responses["201"].content["application/json"].schema.properties.data).toEqual({ $ref: "#/components/schemas/Order" });
    expect(checkout.responses["409"].description).toContain("IDEMPOTENCY_CONFLICT");

    const notify = document.paths["/api/v1/payments/notify/sandbox"].post;
    expect(notify.security).toEqual([]);
    expect(notify.parameters).toContainEqual(expect.objectContaining({ name: "X-Sandbox-Signature", in: "header", required: true }));
    expect(notify.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/SandboxCallback" });

    expect(document.paths["/api/v1/users/me"].get.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths["/api/v1/products"].get.security).toEqual([{}, { bearerAuth: [] }]);
    expect(document.paths["/api/v1/admin/orders"].get.responses["403"]).toEqual({ $ref: "#/components/responses/Forbidden" });
    expect(document.paths["/api/v1/uploads/{name}"].get.responses["200"].content["image/png"]).toBeDefined();
    expect(document.info.license).toEqual({ name: "MIT", url: "https://opensource.org/licenses/MIT" });
  });

  it("every declared error type exists in the error catalogue", () => {
    const actions = shop.brokers[0].registry.getActionList({ onlyAvailable: false, withEndpoints: false }) as { name: string; action?: ActionInfo }[];
    const unknown = actions.flatMap((a) => (a.action?.openapi?.errors ?? []).filter((type) => !(type in ERRORS)).map((type) => `${a.name}: ${type}`));
    expect(unknown).toEqual([]);
  });
});
