/**
 * Response schemas for the OpenAPI document that cannot drift from the TypeScript contracts.
 *
 * Each builder returns plain JSON Schema (OpenAPI 3.0 flavour: `nullable`) — plain because it
 * travels to the gateway inside the action definition, across nodes in the cluster shape — and
 * carries, at the type level only, the TypeScript type the schema describes. `schemaOf<T>()(…)`
 * compiles only when that type is exactly `T`, so changing a contract type without its schema
 * (or the other way round) fails `tsc`:
 *
 *   export const AddressSchema = schemaOf<AddressDto>()(s.named("Address", s.object({ id: s.integer(), … })));
 *
 * A `named` schema becomes `components.schemas.<name>` in the document and is referenced from
 * every operation that uses it.
 */
import type { ErrorType } from "./errors";

declare const TYPE: unique symbol;

export type JsonSchema = Record<string, unknown>;
/** JSON Schema describing values of type T (T exists only for the compiler). */
export type Schema<T> = JsonSchema & { readonly [TYPE]: T };
export type Infer<S> = S extends { readonly [TYPE]: infer T } ? T : never;

type Props = Record<string, Schema<unknown>>;
type Flatten<T> = { [K in keyof T]: T[K] };
type ObjectOf<R extends Props, O extends Props> = Flatten<{ -readonly [K in keyof R]: Infer<R[K]> } & { -readonly [K in keyof O]?: Infer<O[K]> }>;

const make = <T>(json: JsonSchema) => json as Schema<T>;

/** `required` properties are always present; `optional` ones may be absent. */
function object<R extends Props, O extends Props = Record<never, never>>(required: R, optional?: O) {
  const keys = Object.keys(required);
  return make<ObjectOf<R, O>>({ type: "object", ...(keys.length ? { required: keys } : {}), properties: { ...required, ...optional } });
}

/** A page of a list endpoint (API.md "Lists"). */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const s = {
  string: (opts: { format?: "uri" | "email"; description?: string } = {}) => make<string>({ type: "string", ...opts }),
  dateTime: () => make<string>({ type: "string", format: "date-time" }),
  binary: () => make<string>({ type: "string", format: "binary" }),
  integer: (opts: { minimum?: number; description?: string } = {}) => make<number>({ type: "integer", ...opts }),
  /** integer minor units (fen) */
  money: () => make<number>({ type: "integer", description: "amount in minor units (fen)" }),
  number: () => make<number>({ type: "number" }),
  boolean: () => make<boolean>({ type: "boolean" }),
  /** any JSON value (a stored message, say) */
  any: (description: string) => make<unknown>({ description }),
  enum: <const V extends readonly string[]>(values: V) => make<V[number]>({ type: "string", enum: [...values] }),
  array: <T>(items: Schema<T>) => make<T[]>({ type: "array", items }),
  record: <T>(values: Schema<T>) => make<Record<string, T>>({ type: "object", additionalProperties: values }),

  object,
  /** a value matching exactly one of two schemas (e.g. the tiers of two promotion types) */
  oneOf: <A, B>(a: Schema<A>, b: Schema<B>) => make<A | B>({ oneOf: [a, b] }),

  /** T or null. A named schema is inlined here: a component cannot be both nullable and not. */
  nullable: <T>(schema: Schema<T>) => {
    const { title: _named, ...rest } = schema as JsonSchema;
    const json: JsonSchema = { ...rest, nullable: true };
    // OpenAPI 3.0: an enum lists every allowed value, null included
    if (Array.isArray(json.enum)) json.enum = [...json.enum, null];
    return make<T | null>(json);
  },

  /** Published as `components.schemas.<name>`. */
  named: <T>(name: string, schema: Schema<T>) => make<T>({ title: name, ...schema }),
  /** A reference to a named schema, for recursive types (checked by the enclosing schemaOf). */
  ref: <T>(name: string) => make<T>({ $ref: `#/components/schemas/${name}` }),

  page: <T>(items: Schema<T>) =>
    object({
      items: make<T[]>({ type: "array", items }),
      total: make<number>({ type: "integer", minimum: 0 }),
      page: make<number>({ type: "integer", minimum: 1 }),
      pageSize: make<number>({ type: "integer", minimum: 1 }),
    }),
};

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

/**
 * `schemaOf<Contract>()(schema)` returns the schema when it describes exactly `Contract`
 * (same properties, same optionality, same nullability, same literal unions); otherwise the
 * call does not compile.
 */
export function schemaOf<T>() {
  return <S extends Schema<unknown>>(schema: S & (Equals<Infer<S>, T> extends true ? unknown : { "schema does not match the contract type": T })): Schema<T> =>
    schema as unknown as Schema<T>;
}

/**
 * What an action tells the OpenAPI generator (services/api/openapi.ts) beyond its rest route,
 * params, auth and roles. Declared as `openapi: { … }` in the action schema; see CONTRIBUTING.md.
 */
export interface OpenApiMeta {
  /** HTTP status of success; 201 for actions that create something (default 200). Several: the first is the usual one. */
  status?: number | number[];
  /** schema of `data` in the success envelope (from the contracts file) */
  response?: JsonSchema;
  /** the answer is not enveloped: a body of one of these media types (e.g. an image) */
  raw?: string[];
  /** request body, for actions whose params do not describe it (signed raw bodies, multipart) */
  body?: JsonSchema;
  /** request headers the action reads */
  headers?: { name: string; required?: boolean; description: string }[];
  /** the action reads `Idempotency-Key` (ctx.meta.idempotencyKey) */
  idempotencyKey?: "required" | "optional";
  /** business errors (services/shared/errors.ts) the operation answers, beyond those implied by auth, roles and params */
  errors?: ErrorType[];
}
