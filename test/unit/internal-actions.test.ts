/**
 * Internal actions (service-to-service) are reachable over NATS but must never be published
 * through the gateway: no `rest` route, `visibility: "public"` (moleculer-web serves only
 * "published" actions), and a summary that starts with "Internal:" so a reader of the schema,
 * the REPL's `actions` list or the OpenAPI generator's input knows it. The gateway's own
 * routing actions (`api`) are the exception.
 */
import fs from "node:fs";
import path from "node:path";
import { ROOT, serviceNames } from "../helpers/config-keys";

type ActionDef = { rest?: unknown; visibility?: string; summary?: string } | false | ((...a: unknown[]) => unknown);
type Schema = { name: string; mixins?: Schema[]; actions?: Record<string, ActionDef> };

/** The actions a service ends up with: mixins first, its own definitions override (as moleculer merges them). */
function actionsOf(schema: Schema): Map<string, ActionDef> {
  const merged = new Map<string, ActionDef>();
  for (const m of schema.mixins ?? []) for (const [k, v] of actionsOf(m)) merged.set(k, v);
  for (const [k, v] of Object.entries(schema.actions ?? {})) merged.set(k, v);
  return merged;
}

const services = serviceNames()
  .filter((n) => n !== "api")
  .map((n) => {
    const file = path.join(ROOT, "services", n, `${n}.service.ts`);
    expect(fs.existsSync(file)).toBe(true);
    return (require(file) as { default: Schema }).default;
  });

const all = services.flatMap((s) =>
  [...actionsOf(s)].filter(([, def]) => def !== false).map(([name, def]) => ({ name: `${s.name}.${name}`, def: (typeof def === "function" ? {} : def) as Exclude<ActionDef, false | ((...a: unknown[]) => unknown)> })),
);

/** Actions that move money, stock or order state on another service's word. */
const MONEY_MOVING = [
  "users.walletDebit",
  "users.walletCredit",
  "payments.refund",
  "inventory.reserve",
  "inventory.release",
  "inventory.commit",
  "inventory.returnStock",
  "catalog.addSales",
  "orders.sweepExpired",
  "marketing.lockCoupon",
  "marketing.releaseCoupon",
];

describe("internal actions", () => {
  it.each(all.filter((a) => !a.def.rest).map((a) => [a.name, a.def]))("%s (no REST route) is not published and says it is internal", (_n, def) => {
    expect(["public", "protected", "private"]).toContain((def as { visibility?: string }).visibility);
    expect((def as { summary?: string }).summary ?? "").toMatch(/^Internal: /);
  });

  it.each(MONEY_MOVING)("%s exists, has no REST route and is not published", (name) => {
    const a = all.find((x) => x.name === name);
    expect(a).toBeDefined();
    expect(a!.def.rest).toBeUndefined();
    expect(a!.def.visibility).toBe("public");
  });

  it("actions with a REST route are the published ones", () => {
    for (const a of all.filter((x) => x.def.rest)) expect({ a: a.name, visibility: a.def.visibility ?? "published" }).toEqual({ a: a.name, visibility: "published" });
  });
});
