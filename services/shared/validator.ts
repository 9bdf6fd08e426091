/**
 * fastest-validator with one house rule: unless an action says otherwise (`$$strict: "remove"`
 * or `$$strict: false`), unknown fields are rejected with a 422 naming them. Clients learn about
 * typos at once instead of having a field silently ignored.
 */
import { Validators } from "moleculer";

export class StrictValidator extends Validators.Fastest {
  override compile(schema: Record<string, unknown>) {
    const s = schema && typeof schema === "object" && !("$$strict" in schema) && !("$$root" in schema) ? { ...schema, $$strict: true } : schema;
    return super.compile(s as never);
  }
}
