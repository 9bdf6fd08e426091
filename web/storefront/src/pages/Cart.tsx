import { Link, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call } from "../api";
import { ErrorNote, Loading, Money, ProductImage, RequireAuth } from "../ui";
import { QuantityInput } from "./Product";

function CartPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const cart = useQuery({ queryKey: ["cart"], queryFn: () => call(api.GET("/api/v1/cart")) });
  const onSuccess = (c: Schemas["Cart"]) => qc.setQueryData(["cart"], c);
  const update = useMutation({
    mutationFn: ({ skuId, ...body }: { skuId: number; quantity?: number; selected?: boolean }) => call(api.PATCH("/api/v1/cart/items/{skuId}", { params: { path: { skuId } }, body })),
    onSuccess,
  });
  const remove = useMutation({ mutationFn: (skuId: number) => call(api.DELETE("/api/v1/cart/items/{skuId}", { params: { path: { skuId } } })), onSuccess });

  if (cart.isPending) return <Loading />;
  if (cart.error) return <ErrorNote error={cart.error} onRetry={() => void cart.refetch()} />;
  const c = cart.data;
  if (!c.items.length)
    return (
      <div className="stack center">
        <h1>{t("cart.title")}</h1>
        <p>{t("cart.empty")}</p>
        <Link to="/" className="btn btn-primary">
          {t("cart.goShopping")}
        </Link>
      </div>
    );
  const selectedProblem = c.items.some((i) => i.selected && i.problem);
  const allSelected = c.items.every((i) => i.selected);
  const selectAll = async () => {
    for (const i of c.items) if (i.selected === allSelected) await update.mutateAsync({ skuId: i.skuId, selected: !allSelected });
  };

  return (
    <div className="stack">
      <h1>{t("cart.title")}</h1>
      <label className="row">
        <input type="checkbox" checked={allSelected} onChange={() => void selectAll()} /> {t("cart.selectAll")}
      </label>
      <ul className="list">
        {c.items.map((i) => (
          <li key={i.skuId} className={`card cart-line ${i.problem ? "flagged" : ""}`} data-testid="cart-line">
            <input type="checkbox" checked={i.selected} aria-label={`${t("cart.select")} ${i.title ?? i.skuCode}`} onChange={(e) => update.mutate({ skuId: i.skuId, selected: e.target.checked })} />
            <ProductImage src={i.imageUrl} title={i.title ?? "?"} size="sm" />
            <div className="grow stack-xs">
              {i.productId ? <Link to={`/products/${i.productId}`}>{i.title}</Link> : <span>{i.title ?? i.skuCode}</span>}
              <span className="muted small">{Object.values(i.attrs).join(" / ")}</span>
              {i.problem && (
                <span className="warn small" role="status">
                  {t(`cart.problems.${i.problem}`, { count: i.available ?? 0 })}
                </span>
              )}
            </div>
            <Money value={i.unitPrice} currency={i.currency} />
            <QuantityInput id={`qty-${i.skuId}`} value={i.quantity} max={99} onChange={(quantity) => update.mutate({ skuId: i.skuId, quantity })} />
            <span className="subtotal">
              <Money value={i.subtotal} currency={i.currency} />
            </span>
            <button type="button" className="btn btn-link" onClick={() => remove.mutate(i.skuId)} aria-label={`${t("cart.remove")} ${i.title ?? ""}`}>
              {t("cart.remove")}
            </button>
          </li>
        ))}
      </ul>
      <ErrorNote error={update.error ?? remove.error} />
      <div className="card totals">
        <div className="row spread">
          <span>{t("cart.itemsTotal")}</span>
          <Money value={c.totals.itemsTotal} currency={c.totals.currency} />
        </div>
        {c.totals.discount > 0 && (
          <div className="row spread">
            <span>{t("cart.discount")}</span>
            <span>
              −<Money value={c.totals.discount} currency={c.totals.currency} />
            </span>
          </div>
        )}
        <div className="row spread strong">
          <span>{t("cart.payable")}</span>
          <Money value={c.totals.payable} currency={c.totals.currency} />
        </div>
        {selectedProblem && <p className="warn">{t("cart.fix")}</p>}
        <button type="button" className="btn btn-primary" disabled={!c.totals.selectedCount || selectedProblem} onClick={() => navigate("/checkout")}>
          {t("cart.checkout", { count: c.totals.selectedCount })}
        </button>
      </div>
    </div>
  );
}

export default function Cart() {
  return (
    <RequireAuth>
      <CartPage />
    </RequireAuth>
  );
}
