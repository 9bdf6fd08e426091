/**
 * Checkout fixtures through the gateway: a product with stocked SKUs, buyers with an address
 * (and wallet money), orders placed with an Idempotency-Key. Shared by the payments integration
 * test, the crash test and bench/checkout.ts.
 */
import crypto from "node:crypto";
import { client, newCustomer } from "./shop";

type Http = ReturnType<typeof client>;

function ok<T = any>(r: { status: number; text: string; body: any }, what: string): T {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body.data as T;
}

export interface StockedSku {
  productId: number;
  skuId: number;
  price: number;
}

/** One product with `skus.length` SKUs, each with its price and stock. */
export async function stockedProduct(shop: { url: string }, admin: string, skus: { price: number; stock: number }[]): Promise<StockedSku[]> {
  const http = client(shop);
  const tag = crypto.randomBytes(3).toString("hex");
  const cat = ok(await http.post("categories", { name: `Checkout ${tag}` }, { token: admin }), "category");
  const product = ok(
    await http.post(
      "products",
      {
        title: `Checkout item ${tag}`,
        categoryId: cat.id,
        skus: skus.map((s, i) => ({ skuCode: `CK-${tag}-${i}`, attrs: { n: String(i) }, price: s.price, stock: s.stock })),
      },
      { token: admin },
    ),
    "product",
  );
  const detail = ok(await http.get(`products/${product.id}`, { token: admin }), "product detail");
  return (detail.skus as { id: number; skuCode: string; price: number }[])
    .sort((a, b) => a.skuCode.localeCompare(b.skuCode))
    .map((s) => ({ productId: Number(product.id), skuId: Number(s.id), price: Number(s.price) }));
}

export interface Buyer {
  id: number;
  token: string;
  addressId: number;
}

/** A registered, logged-in customer with a default address and, optionally, wallet money. */
export async function newBuyer(shop: { url: string }, opts: { admin?: string; wallet?: number } = {}): Promise<Buyer> {
  const http = client(shop);
  const c = await newCustomer(shop, "b");
  const addr = ok(
    await http.post(
      "users/me/addresses",
      { name: "Buyer", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Test Road" },
      { token: c.token },
    ),
    "address",
  );
  if (opts.wallet && opts.admin) {
    ok(
      await http.post(`admin/users/${c.id}/wallet/credit`, { amount: opts.wallet, reason: "test money" }, { token: opts.admin, headers: { "idempotency-key": crypto.randomUUID() } }),
      "wallet credit",
    );
  }
  return { id: c.id, token: c.token, addressId: Number(addr.id) };
}

/** POST /orders for explicit items; returns the order (throws on a non-201). */
export async function placeOrder(http: Http, buyer: Buyer, items: { skuId: number; quantity: number }[]) {
  const r = await http.post("orders", { addressId: buyer.addressId, items }, { token: buyer.token, headers: { "idempotency-key": crypto.randomUUID() } });
  return ok<{ orderNo: string; payable: number; currency: string; status: string; expiresAt: string }>(r, "place order");
}

/** POST /payments; returns the payment (throws on a non-2xx). */
export async function openPayment(http: Http, buyer: Buyer, orderNo: string, channel: "sandbox" | "wallet") {
  return ok<{ paymentNo: string; status: string; amount: number; currency: string; payUrl?: string }>(
    await http.post("payments", { orderNo, channel }, { token: buyer.token }),
    `open ${channel} payment`,
  );
}
