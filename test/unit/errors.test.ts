import fs from "node:fs";
import path from "node:path";
import { Errors } from "moleculer";
import { ERRORS, ErrorType, bizError, codeFor, retryableError } from "../../services/shared/errors";

/**
 * Module code ranges from API.md "Envelope" (the contract clients rely on). The generic
 * gateway/transport errors live in 1000–1999 (1000 + HTTP status where possible).
 */
const API_RANGES: Record<string, [number, number]> = {
  generic: [1000, 1999],
  users: [10000, 10999],
  catalog: [20000, 20999],
  orders: [30000, 30999],
  payments: [40000, 40999],
  cart: [50000, 50999],
  seckill: [60000, 60999],
  uploads: [70000, 70999],
  inventory: [80000, 80999],
  marketing: [90000, 90999],
  messages: [95000, 95999],
};

interface Section {
  module: string;
  declared: [number, number] | null;
  types: string[];
}

/**
 * errors.ts groups types under `// <module> <from>–<to>` comments; read which type sits under
 * which comment, so a new type is checked against its module's range without touching this test.
 */
function sections(src = fs.readFileSync(path.resolve(__dirname, "../../services/shared/errors.ts"), "utf8")): Section[] {
  const body = src.slice(src.indexOf("export const ERRORS"), src.indexOf("} satisfies"));
  const out: Section[] = [];
  for (const line of body.split("\n")) {
    const comment = /^\s*\/\/\s*(.+?)\s*$/.exec(line);
    if (comment) {
      const text = comment[1];
      const range = /(\d{4,5})\s*[–-]\s*(\d{4,5})/.exec(text);
      const word = text.toLowerCase().match(/[a-z]+/)?.[0] ?? text;
      out.push({ module: word, declared: range ? [Number(range[1]), Number(range[2])] : null, types: [] });
      continue;
    }
    const key = /^\s*([A-Z][A-Z0-9_]*)\s*:\s*\{/.exec(line);
    if (key) {
      if (!out.length) throw new Error(`${key[1]} is above the first section comment in errors.ts`);
      out[out.length - 1].types.push(key[1]);
    }
  }
  return out;
}

describe("error catalogue (services/shared/errors.ts)", () => {
  const all = Object.entries(ERRORS) as [ErrorType, { status: number; code: number; message: string }][];

  it("codes are unique", () => {
    const seen = new Map<number, string>();
    const dupes: string[] = [];
    for (const [type, def] of all) {
      if (seen.has(def.code)) dupes.push(`${def.code}: ${seen.get(def.code)} and ${type}`);
      seen.set(def.code, type);
    }
    expect(dupes).toEqual([]);
  });

  it("types are SCREAMING_SNAKE_CASE with an HTTP error status and a message", () => {
    for (const [type, def] of all) {
      expect(type).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(def.status).toBeGreaterThanOrEqual(400);
      expect(def.status).toBeLessThan(600);
      expect(def.message.length).toBeGreaterThan(0);
    }
  });

  it("every type sits under a section comment naming a module of API.md", () => {
    const secs = sections();
    const listed = secs.flatMap((s) => s.types).sort();
    expect(listed).toEqual(Object.keys(ERRORS).sort());
    for (const s of secs) expect(Object.keys(API_RANGES)).toContain(s.module);
  });

  it("each module section declares the range API.md gives it", () => {
    for (const s of sections()) {
      if (s.module === "generic") continue;
      expect({ module: s.module, range: s.declared }).toEqual({ module: s.module, range: API_RANGES[s.module] });
    }
  });

  it("each module's codes are within its API.md range", () => {
    const outside: string[] = [];
    for (const s of sections()) {
      const [lo, hi] = API_RANGES[s.module];
      for (const t of s.types) {
        const code = ERRORS[t as ErrorType].code;
        if (code < lo || code > hi) outside.push(`${t} ${code} not in ${s.module} ${lo}-${hi}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("the section reader sees which module a type belongs to (self-check)", () => {
    const fake = `export const ERRORS = {
  // generic (gateway / transport)
  BAD_REQUEST: { status: 400, code: 1400, message: "x" },
  // catalog 20000–20999
  PRODUCT_NOT_FOUND: { status: 404, code: 20001, message: "x" },
  MISPLACED: { status: 409, code: 30001, message: "x" },
} satisfies Record<string, ErrorDef>;`;
    expect(sections(fake)).toEqual([
      { module: "generic", declared: null, types: ["BAD_REQUEST"] },
      { module: "catalog", declared: [20000, 20999], types: ["PRODUCT_NOT_FOUND", "MISPLACED"] },
    ]);
  });

  it("module (business) errors are client errors: 4xx", () => {
    for (const s of sections()) {
      if (s.module === "generic") continue;
      for (const t of s.types) expect({ t, status: ERRORS[t as ErrorType].status < 500 }).toEqual({ t, status: true });
    }
  });
});

describe("helpers", () => {
  it("bizError builds a MoleculerClientError carrying type, status and data", () => {
    const e = bizError("ORDER_NOT_FOUND", undefined, { orderNo: "X" });
    expect(e).toBeInstanceOf(Errors.MoleculerClientError);
    expect(e.code).toBe(404);
    expect(e.type).toBe("ORDER_NOT_FOUND");
    expect(e.message).toBe("order not found");
    expect(e.data).toEqual({ orderNo: "X" });
    expect(bizError("OUT_OF_STOCK", "only 2 left").message).toBe("only 2 left");
  });

  it("retryableError is a retryable 503", () => {
    const e = retryableError("redis down");
    expect(e.retryable).toBe(true);
    expect(e.code).toBe(503);
    expect(e.type).toBe("SERVICE_UNAVAILABLE");
  });

  it("codeFor: the catalogue code, else 1000 + status", () => {
    expect(codeFor("ORDER_STATE_CONFLICT", 409)).toBe(30004);
    expect(codeFor("SOMETHING_NEW", 418)).toBe(1418);
    expect(codeFor(undefined, 200)).toBe(1500);
  });
});
