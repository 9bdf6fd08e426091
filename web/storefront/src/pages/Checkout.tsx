import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError, idempotencyKey } from "../../../shared";
import { api, call } from "../api";
import { ErrorNote, Field, Loading, Money, RequireAuth, useCouponText } from "../ui";
import { AddressForm, addressLine } from "./AddressForm";

function CheckoutPage() {
  const { t } = useTranslation();
  const couponText = useCouponText();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const addresses = useQuery({ queryKey: ["addresses"], queryFn: () => call(api.GET("/api/v1/users/me/addresses")) });
  const coupons = useQuery({ queryKey: ["my-coupons", "UNUSED"], queryFn: () => call(api.GET("/api/v1/users/me/coupons", { params: { query: { status: "UNUSED" } } })) });
  const points = useQuery({ queryKey: ["points"], queryFn: () => call(api.GET("/api/v1/users/me/points")) });
  const cart = useQuery({ queryKey: ["cart"], queryFn: () => call(api.GET("/api/v1/cart")) });

  const [addressId, setAddressId] = useState<number | null>(null);
  const [adding, setAdding] = useState(false);
  const [couponId, setCouponId] = useState<number | undefined>(undefined);
  const [usePoints, setUsePoints] = useState(0);
  const [remark, setRemark] = useState("");
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // one key per checkout attempt: a double click or a retry after a lost answer replays the same
  // order instead of creating a second one; a changed form is a new attempt
  const key = useRef(idempotencyKey());
  useEffect(() => {
    key.current = idempotencyKey();
  }, [addressId, couponId, usePoints, remark]);

  const list = addresses.data ?? [];
  const chosen = addressId ?? list.find((a) => a.isDefault)?.id ?? list[0]?.id ?? null;

  const quote = useQuery({
    queryKey: ["quote", couponId, usePoints, cart.dataUpdatedAt],
    queryFn: () => call(api.POST("/api/v1/cart/quote", { body: { ...(couponId ? { couponId } : {}), ...(usePoints ? { usePoints } : {}) } })),
    placeholderData: keepPreviousData,
    retry: false,
  });

  const submit = async () => {
    if (submitting) return;
    if (!chosen) return setError(new ApiError(422, { type: "ADDRESS_NOT_FOUND" }));
    setSubmitting(true);
    setError(null);
    try {
      const order = await call(
        api.POST("/api/v1/orders", {
          params: { header: { "Idempotency-Key": key.current } },
          body: { addressId: chosen, ...(couponId ? { couponId } : {}), ...(usePoints ? { usePoints } : {}), ...(remark.trim() ? { remark: remark.trim() } : {}) },
        }),
      );
      await qc.invalidateQueries({ queryKey: ["cart"] });
      void qc.invalidateQueries({ queryKey: ["my-coupons"] });
      navigate(`/pay/${order.orderNo}`, { replace: true });
    } catch (err) {
      setError(err);
      // a definite refusal: the next click is a new attempt (in progress / network: same key)
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && !/IN_PROGRESS/.test(err.type)) key.current = idempotencyKey();
      setSubmitting(false);
    }
  };

  if (addresses.isPending || cart.isPending) return <Loading />;
  const q = quote.data;
  const attrsOf = (skuId: number) => Object.values(cart.data?.items.find((i) => i.skuId === skuId)?.attrs ?? {}).join(" / ");
  const balance = points.data?.balance ?? 0;
  const couponList = coupons.data?.items ?? [];

  return (
    <div className="stack">
      <h1>{t("checkout.title")}</h1>
      <section className="card stack-sm" aria-labelledby="addr-title">
        <h2 id="addr-title">{t("checkout.address")}</h2>
        <ErrorNote error={addresses.error} onRetry={() => void addresses.refetch()} />
        {list.length > 0 && (
          <div role="radiogroup" aria-labelledby="addr-title" className="stack-xs">
            {list.map((a) => (
              <label key={a.id} className="row radio-card">
                <input type="radio" name="address" value={a.id} checked={chosen === a.id} onChange={() => setAddressId(a.id)} />
                <span>
                  {addressLine(a)} {a.isDefault && <span className="tag">{t("address.default")}</span>}
                </span>
              </label>
            ))}
          </div>
        )}
        {adding || list.length === 0 ? (
          <AddressForm
            onDone={(a) => {
              setAddressId(a.id);
              setAdding(false);
            }}
            onCancel={list.length ? () => setAdding(false) : undefined}
          />
        ) : (
          <button type="button" className="btn" onClick={() => setAdding(true)}>
            {t("checkout.addAddress")}
          </button>
        )}
      </section>

      <section className="card stack-sm" aria-labelledby="items-title">
        <h2 id="items-title">{t("checkout.items")}</h2>
        <ul className="list">
          {(q?.lines ?? []).map((l) => (
            <li key={l.skuId} className="row spread">
              <span>
                {l.title}
                {attrsOf(l.skuId) && <span className="muted small"> · {attrsOf(l.skuId)}</span>} × {l.quantity}
              </span>
              <Money value={l.subtotal} />
            </li>
          ))}
        </ul>
      </section>

      <section className="card stack-sm" aria-labelledby="offers-title">
        <h2 id="offers-title">{t("checkout.offers")}</h2>
        <Field id="coupon" label={t("checkout.coupon")}>
          <select id="coupon" value={couponId ?? ""} onChange={(e) => setCouponId(e.target.value ? Number(e.target.value) : undefined)}>
            <option value="">{t("checkout.noCoupon")}</option>
            {couponList.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} · {couponText(c).join(" · ")}
              </option>
            ))}
          </select>
        </Field>
        <Field id="points" label={t("checkout.usePoints")} hint={t("checkout.pointsBalance", { count: balance })}>
          <input id="points" type="number" min={0} max={balance} step={100} value={usePoints} aria-describedby="points-hint" onChange={(e) => setUsePoints(Math.max(0, Math.min(balance, Math.trunc(Number(e.target.value) || 0))))} />
        </Field>
        <Field id="remark" label={t("checkout.remark")}>
          <input id="remark" maxLength={200} value={remark} onChange={(e) => setRemark(e.target.value)} />
        </Field>
      </section>

      <section className="card stack-sm totals" aria-labelledby="sum-title">
        <h2 id="sum-title">{t("checkout.summary")}</h2>
        <ErrorNote error={quote.error} />
        {q && (
          <dl className="summary">
            <dt>{t("checkout.itemsTotal")}</dt>
            <dd><Money value={q.totals.itemsTotal} currency={q.totals.currency} /></dd>
            {q.promotions.map((p) => (
              <Fragmentish key={`p${p.id}`} label={`${t("checkout.promotion")}: ${p.name}`} value={-p.discount} />
            ))}
            {q.coupon && <Fragmentish label={`${t("checkout.couponDiscount")}: ${q.coupon.name}`} value={-q.coupon.discount} />}
            {q.totals.pointsDeduction > 0 && <Fragmentish label={t("checkout.pointsDeduction")} value={-q.totals.pointsDeduction} />}
            <dt>{t("checkout.shipping")}</dt>
            <dd>{q.totals.shippingFee ? <Money value={q.totals.shippingFee} /> : t("checkout.free")}</dd>
            <dt className="strong">{t("checkout.payable")}</dt>
            <dd className="strong" data-testid="payable"><Money value={q.totals.payable} currency={q.totals.currency} /></dd>
          </dl>
        )}
        <ErrorNote error={error} />
        <button type="button" className="btn btn-primary btn-lg" disabled={submitting || !chosen || !q?.lines.length} onClick={() => void submit()}>
          {submitting ? t("checkout.submitting") : t("checkout.submit")}
        </button>
      </section>
    </div>
  );
}

function Fragmentish({ label, value }: { label: string; value: number }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {value < 0 ? "−" : ""}
        <Money value={Math.abs(value)} />
      </dd>
    </>
  );
}

export default function Checkout() {
  return (
    <RequireAuth>
      <CheckoutPage />
    </RequireAuth>
  );
}
