/**
 * Action definitions travel to the other nodes in INFO packets, and the gateway builds routes,
 * auth checks and the OpenAPI document from what arrives. On the way moleculer serialises each
 * node's services with a replacer that drops any object it has already written (it takes a
 * repeated reference for a cycle) and JSON turns a RegExp into `{}`. So in the cluster shape
 * `{ categoryId: optionalId, brandId: optionalId }` arrived without `brandId`, a response schema
 * that reused a field schema lost fields, and string patterns vanished.
 *
 * This middleware gives every action its own copy of each plain object it references and writes
 * fastest-validator patterns as strings (`pattern` + `patternFlags`, which the validator reads
 * the same way), before the service registers its actions.
 */
import type { Middleware } from "moleculer";

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (!v || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A copy in which no plain object or array appears twice; functions and class instances are kept as they are. */
export function wireSafe<T>(value: T): T {
  if (Array.isArray(value)) return value.map(wireSafe) as T;
  if (!isPlain(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "pattern" && v instanceof RegExp) {
      out.pattern = v.source;
      if (v.flags) out.patternFlags = v.flags;
    } else {
      out[k] = wireSafe(v);
    }
  }
  return out as T;
}

export const WireSafeActions = {
  name: "WireSafeActions",
  serviceCreating(_service: unknown, schema: { actions?: Record<string, unknown> }) {
    if (!schema.actions) return;
    for (const [name, def] of Object.entries(schema.actions)) schema.actions[name] = wireSafe(def);
  },
} as unknown as Middleware;
