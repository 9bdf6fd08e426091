/**
 * Flash-sale fixtures through the gateway: a stocked SKU, a published sale, many buyers at once,
 * and polling tickets until the writer settled them. Shared by the seckill suites and bench/seckill.ts.
 */
import http from "node:http";
import { Buyer, newBuyer, stockedProduct } from "./checkout";
import { client, waitFor } from "./shop";

type Http = ReturnType<typeof client>;

export function ok<T = any>(r: { status: number; text: string; body: any }, what: string): T {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body.data as T;
}

/** Run `fn` `n` times with at most `width` at once. */
export async function pool<T>(width: number, n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

export async function buyers(shop: { url: string }, n: number, width = 8): Promise<Buyer[]> {
  return pool(width, n, () => newBuyer(shop));
}

export interface SaleSpec {
  price?: number;
  quantity: number;
  perUserLimit?: number;
  stock?: number;
  skuPrice?: number;
  startAt?: Date;
  endAt?: Date;
}

export async function publishSale(shop: { url: string }, admin: string, spec: SaleSpec) {
  const http = client(shop);
  const [sku] = await stockedProduct(shop, admin, [{ price: spec.skuPrice ?? 9900, stock: spec.stock ?? spec.quantity * 2 }]);
  const sale = ok(
    await http.post(
      "admin/seckill/events",
      {
        skuId: sku.skuId,
        title: "Flash sale",
        price: spec.price ?? 100,
        quantity: spec.quantity,
        perUserLimit: spec.perUserLimit ?? 1,
        startAt: (spec.startAt ?? new Date(Date.now() - 1000)).toISOString(),
        endAt: (spec.endAt ?? new Date(Date.now() + 600_000)).toISOString(),
      },
      { token: admin },
    ),
    "publish sale",
  );
  return { sku, sale };
}

export function purchase(http: Http, buyer: Buyer, saleId: number, quantity?: number) {
  return http.post(`seckill/events/${saleId}/purchase`, { addressId: buyer.addressId, ...(quantity ? { quantity } : {}) }, { token: buyer.token });
}

/** Poll tickets until none is QUEUED; returns each ticket's final answer. */
export async function settle(http: Http, tickets: { ticket: string; buyer: Buyer }[], timeout = 60_000) {
  const out = new Map<string, any>();
  await waitFor(
    async () => {
      const open = tickets.filter((t) => !out.has(t.ticket));
      await pool(16, open.length, async (i) => {
        const t = open[i];
        const r = await http.get(`seckill/tickets/${t.ticket}`, { token: t.buyer.token });
        if (r.status === 200 && r.body.data.status !== "QUEUED") out.set(t.ticket, r.body.data);
      });
      return out.size === tickets.length;
    },
    { timeout, interval: 200, what: `${tickets.length} tickets settled` },
  );
  return tickets.map((t) => out.get(t.ticket));
}

/**
 * Fire every purchase at once over a pool of keep-alive connections (`sockets`): a thousand
 * fresh connections in the same millisecond overflow the listen backlog and get reset, which
 * would test the kernel rather than the shop.
 */
export async function stampede(shop: { url: string }, saleId: number, who: Buyer[], sockets = 200): Promise<{ status: number; body: any; buyer: Buyer }[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const url = new URL(`${shop.url}/api/v1/seckill/events/${saleId}/purchase`);
  try {
    return await Promise.all(
      who.map(
        (buyer) =>
          new Promise<{ status: number; body: any; buyer: Buyer }>((resolve, reject) => {
            const body = JSON.stringify({ addressId: buyer.addressId });
            const req = http.request(
              url,
              { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${buyer.token}` } },
              (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c) => (text += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), buyer }));
              },
            );
            req.on("error", reject);
            req.end(body);
          }),
      ),
    );
  } finally {
    agent.destroy();
  }
}
