/**
 * The catalog's search gate in a running shop (services/catalog/search-gate.ts): with
 * SEARCH_CONCURRENCY=1, concurrent uncached searches reach the database one at a time and all
 * answer correctly, and a cached answer is served while a search holds the gate.
 */
import { Shop, client, loginAdmin, startShop } from "../helpers/shop";
import type { Reader } from "../../services/catalog/read-pool";

describe("catalog search gate (embedded, SEARCH_CONCURRENCY=1)", () => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let svc: { reader: Reader };
  let inFlight = 0;
  let most = 0;
  let hold: Promise<void> | null = null;
  /** called when a statement reaches `hold` */
  let reached: (() => void) | null = null;

  beforeAll(async () => {
    shop = await startShop({ shape: "embedded", env: { SEARCH_CONCURRENCY: "1" } });
    http = client(shop);
    const admin = await loginAdmin(shop);
    const cat = (await http.post("categories", { name: "Gate" }, { token: admin })).body.data;
    for (const [i, title] of ["red kettle", "blue kettle", "green lamp", "red lamp", "blue mug", "green mug"].entries()) {
      const r = await http.post("products", { title, categoryId: cat.id, skus: [{ skuCode: `GATE-${i}`, price: 1000 + i, stock: 3 }] }, { token: admin });
      expect(r.status).toBe(201);
    }
    svc = shop.brokerFor("catalog").getLocalService("catalog") as unknown as { reader: Reader };
    const base = svc.reader;
    // every statement of a search, counted while it runs; `hold` keeps one waiting
    svc.reader = {
      dialect: base.dialect,
      close: () => base.close(),
      select: async <T>(sql: string, args: unknown[]) => {
        most = Math.max(most, ++inFlight);
        try {
          if (hold) {
            reached?.();
            await hold;
          }
          return await base.select<T>(sql, args);
        } finally {
          inFlight--;
        }
      },
    };
  });

  afterAll(async () => {
    await shop?.stop();
  });

  it("runs concurrent uncached searches one at a time, each with its own right answer", async () => {
    const queries = ["kettle", "lamp", "mug", "red", "blue", "green", "red kettle", "blue mug"];
    const answers = await Promise.all(queries.map((q) => http.get(`products?q=${encodeURIComponent(q)}&sort=price_asc`)));
    expect(answers.map((r) => r.status)).toEqual(queries.map(() => 200));
    const titles = answers.map((r) => r.body.data.items.map((p: { title: string }) => p.title));
    expect(titles).toEqual([
      ["red kettle", "blue kettle"],
      ["green lamp", "red lamp"],
      ["blue mug", "green mug"],
      ["red kettle", "red lamp"],
      ["blue kettle", "blue mug"],
      ["green lamp", "green mug"],
      ["red kettle"],
      ["blue mug"],
    ]);
    expect(most).toBe(1);
  });

  it("answers a cached search while an uncached one holds the gate", async () => {
    let open!: () => void;
    hold = new Promise<void>((r) => (open = r));
    const holding = new Promise<void>((r) => (reached = r));
    const slow = http.get("products?q=kettle&sort=newest");
    // the uncached search is in the gate, held at its first statement
    await holding;
    // cached by the test above: served without waiting for the held search
    const cached = await http.get("products?q=kettle&sort=price_asc");
    expect(cached.status).toBe(200);
    expect(cached.body.data.total).toBe(2);
    hold = null;
    open();
    expect((await slow).status).toBe(200);
  });
});
