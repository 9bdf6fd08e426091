import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call, useSession } from "../api";
import { ErrorNote, Loading, Money, Notice, ProductImage, formatTime } from "../ui";

function stockText(t: (k: string, o?: Record<string, unknown>) => string, sku: Schemas["Sku"] | undefined) {
  if (!sku || sku.available === null) return t("product.stock.unknown");
  if (sku.available <= 0) return t("product.stock.out");
  if (sku.available <= 10) return t("product.stock.low", { count: sku.available });
  return t("product.stock.in");
}

export function QuantityInput({ value, onChange, max = 99, id }: { value: number; onChange: (n: number) => void; max?: number; id: string }) {
  const { t } = useTranslation();
  const clamp = (n: number) => Math.max(1, Math.min(max, Number.isFinite(n) ? Math.trunc(n) : 1));
  return (
    <span className="qty">
      <button type="button" className="btn" aria-label={t("product.decrease")} disabled={value <= 1} onClick={() => onChange(clamp(value - 1))}>
        −
      </button>
      <input id={id} type="number" min={1} max={max} value={value} onChange={(e) => onChange(clamp(Number(e.target.value)))} aria-label={t("product.quantity")} />
      <button type="button" className="btn" aria-label={t("product.increase")} disabled={value >= max} onClick={() => onChange(clamp(value + 1))}>
        +
      </button>
    </span>
  );
}

export default function Product() {
  const { id } = useParams();
  const productId = Number(id);
  const { t, i18n } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const product = useQuery({
    queryKey: ["product", productId],
    queryFn: () => call(api.GET("/api/v1/products/{id}", { params: { path: { id: productId } } })),
    enabled: Number.isInteger(productId) && productId > 0,
  });
  const reviews = useQuery({
    queryKey: ["reviews", productId],
    queryFn: () => call(api.GET("/api/v1/products/{id}/reviews", { params: { path: { id: productId }, query: { page: 1, pageSize: 20 } } })),
    enabled: Number.isInteger(productId) && productId > 0,
  });
  const [skuId, setSkuId] = useState<number | null>(null);
  const [qty, setQty] = useState(1);
  const p = product.data;
  const sku = p?.skus.find((s) => s.id === skuId) ?? (p?.skus.length === 1 ? p.skus[0] : undefined);

  const add = useMutation({
    mutationFn: (s: Schemas["Sku"]) => call(api.POST("/api/v1/cart/items", { body: { skuId: s.id, quantity: qty } })),
    onSuccess: (cart) => qc.setQueryData(["cart"], cart),
  });
  const addToCart = async (then?: "checkout") => {
    if (!session.tokens) return navigate(`/login?next=${encodeURIComponent(`/products/${productId}`)}`);
    if (!sku) return;
    await add.mutateAsync(sku);
    if (then) navigate("/cart");
  };

  if (!Number.isInteger(productId) || productId <= 0) return <ErrorNote error={new Error("not found")} />;
  if (product.isPending) return <Loading />;
  if (product.error || !p) return <ErrorNote error={product.error} onRetry={() => void product.refetch()} />;
  const outOfStock = !sku || (sku.available !== null && sku.available <= 0);
  const maxQty = Math.max(1, Math.min(99, sku?.available ?? 99));

  return (
    <article className="stack">
      <div className="product-layout">
        <ProductImage src={sku?.imageUrl ?? p.images[0]} title={p.title} size="lg" />
        <div className="stack">
          <h1>{p.title}</h1>
          {p.subtitle && <p className="muted">{p.subtitle}</p>}
          <p className="price-big">
            {sku ? <Money value={sku.price} currency={sku.currency} /> : p.minPrice === p.maxPrice ? <Money value={p.minPrice} currency={p.currency} /> : <><Money value={p.minPrice} currency={p.currency} /> – <Money value={p.maxPrice} currency={p.currency} /></>}
          </p>
          <p className="muted small">
            {t("product.sales", { count: p.sales })} · {t("product.rating", { rating: p.rating.toFixed(1) })}
            {p.brand && ` · ${p.brand.name}`}
          </p>
          {p.status !== "ON_SALE" && <div className="alert alert-error" role="alert">{t("product.offSale")}</div>}
          <fieldset className="sku-picker">
            <legend>{t("product.choose")}</legend>
            <div className="chips">
              {p.skus.map((s) => {
                const label = Object.values(s.attrs).join(" / ") || s.skuCode;
                return (
                  <button
                    type="button"
                    key={s.id}
                    className={`chip ${sku?.id === s.id ? "chip-on" : ""}`}
                    aria-pressed={sku?.id === s.id}
                    disabled={s.available !== null && s.available <= 0}
                    onClick={() => {
                      setSkuId(s.id);
                      setQty(1);
                    }}
                  >
                    {label}
                  </button>
                );
              })}
            </div>
          </fieldset>
          <p className={outOfStock && sku ? "warn" : "muted"} role="status">
            {sku ? stockText(t, sku) : t("product.choose")}
          </p>
          <div className="row">
            <label htmlFor="qty">{t("product.quantity")}</label>
            <QuantityInput id="qty" value={qty} onChange={setQty} max={maxQty} />
          </div>
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={!sku || outOfStock || add.isPending || p.status !== "ON_SALE"} onClick={() => void addToCart().catch(() => undefined)}>
              {t("product.addToCart")}
            </button>
            <button type="button" className="btn btn-accent" disabled={!sku || outOfStock || add.isPending || p.status !== "ON_SALE"} onClick={() => void addToCart("checkout").catch(() => undefined)}>
              {t("product.buyNow")}
            </button>
          </div>
          {add.isSuccess && <Notice>{t("product.added")}</Notice>}
          <ErrorNote error={add.error} />
        </div>
      </div>
      {p.description && <section className="card prose">{p.description}</section>}
      <section aria-labelledby="reviews-title" className="stack-sm">
        <h2 id="reviews-title">{t("product.reviews", { count: p.reviewCount })}</h2>
        {reviews.data && reviews.data.items.length === 0 && <p className="muted">{t("product.noReviews")}</p>}
        <ul className="list">
          {reviews.data?.items.map((r) => (
            <li key={r.id} className="card">
              <span aria-label={t("product.rating", { rating: r.rating })}>{"★".repeat(r.rating)}{"☆".repeat(5 - r.rating)}</span>
              <p>{r.content}</p>
              <span className="muted small">{formatTime(r.createdAt, i18n.language)}</span>
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
