import { Utils } from "moleculer";
import Validator from "fastest-validator";
import { wireSafe } from "../../services/shared/wire-safe";

/** What a gateway on another node receives: moleculer's INFO serialisation of an action definition. */
const overTheWire = (def: unknown) => Utils.safetyObject(def, {}) as Record<string, any>;

describe("wireSafe: action definitions survive the trip to other nodes", () => {
  const optionalId = { type: "number", integer: true, positive: true, optional: true };
  const action = {
    rest: "GET /products",
    params: { categoryId: optionalId, brandId: optionalId, code: { type: "string", pattern: /^[a-z]+$/i } },
    openapi: { response: { type: "object", properties: { a: optionalId, b: optionalId } } },
    handler: () => "ok",
  };

  it("as it was, a reused object arrives once and a RegExp arrives as {}", () => {
    const seen = overTheWire(action);
    expect(seen.params.brandId).toBeUndefined();
    expect(seen.params.code.pattern).toEqual({});
  });

  it("made wire-safe, every field and the pattern arrive", () => {
    const safe = wireSafe(action);
    const seen = overTheWire(safe);
    expect(seen.params).toEqual({
      categoryId: optionalId,
      brandId: optionalId,
      code: { type: "string", pattern: "^[a-z]+$", patternFlags: "i" },
    });
    expect(seen.openapi.response.properties).toEqual({ a: optionalId, b: optionalId });
    expect(safe.handler).toBe(action.handler);
    expect(action.params.code.pattern).toBeInstanceOf(RegExp); // the original is left alone
  });

  it("the validator accepts and rejects exactly as before", () => {
    const v = new Validator();
    const before = v.compile({ ...action.params, $$strict: true });
    const after = v.compile({ ...wireSafe(action.params), $$strict: true });
    for (const input of [{ code: "abc" }, { code: "ABC" }, { code: "a1" }, { code: "" }, { brandId: 0, code: "x" }, { brandId: 3, code: "x" }, { code: "x", extra: 1 }]) {
      expect([input, after(input) === true]).toEqual([input, before(input) === true]);
    }
  });
});
