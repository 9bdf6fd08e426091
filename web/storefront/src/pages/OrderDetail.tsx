import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call } from "../api";
import { ErrorNote, Field, Loading, Money, Notice, ProductImage, RequireAuth, StatusTag, formatTime } from "../ui";
import { addressLine } from "./AddressForm";

function ReviewForm({ orderNo, item }: { orderNo: string; item: Schemas["OrderItem"] }) {
  const { t } = useTranslation();
  const [rating, setRating] = useState(5);
  const [content, setContent] = useState("");
  const review = useMutation({
    mutationFn: () => call(api.POST("/api/v1/products/{id}/reviews", { params: { path: { id: item.productId } }, body: { orderNo, skuId: item.skuId, rating, content } })),
  });
  if (review.isSuccess) return <Notice>{t("orders.reviewed")}</Notice>;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    review.mutate();
  };
  return (
    <form className="stack-sm" onSubmit={submit} aria-label={`${t("orders.review")} ${item.title}`}>
      <Field id={`rating-${item.skuId}`} label={t("product.rating", { rating })}>
        <select id={`rating-${item.skuId}`} value={rating} onChange={(e) => setRating(Number(e.target.value))}>
          {[5, 4, 3, 2, 1].map((n) => (
            <option key={n} value={n}>
              {"★".repeat(n)}
            </option>
          ))}
        </select>
      </Field>
      <Field id={`content-${item.skuId}`} label={t("orders.reviewContent")}>
        <textarea id={`content-${item.skuId}`} required maxLength={1000} value={content} onChange={(e) => setContent(e.target.value)} />
      </Field>
      <ErrorNote error={review.error} />
      <button type="submit" className="btn" disabled={review.isPending}>
        {t("orders.reviewSubmit")}
      </button>
    </form>
  );
}

function OrderPage() {
  const { orderNo = "" } = useParams();
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const order = useQuery({ queryKey: ["order", orderNo], queryFn: () => call(api.GET("/api/v1/orders/{orderNo}", { params: { path: { orderNo } } })) });
  const refunds = useQuery({ queryKey: ["refunds", orderNo], queryFn: () => call(api.GET("/api/v1/orders/{orderNo}/refunds", { params: { path: { orderNo } } })), retry: false });
  const [reason, setReason] = useState("");
  const [refunding, setRefunding] = useState(false);
  const done = (o: Schemas["Order"]) => {
    qc.setQueryData(["order", orderNo], o);
    void qc.invalidateQueries({ queryKey: ["orders"] });
  };
  const cancel = useMutation({ mutationFn: () => call(api.POST("/api/v1/orders/{orderNo}/cancel", { params: { path: { orderNo } } })), onSuccess: done });
  const confirm = useMutation({ mutationFn: () => call(api.POST("/api/v1/orders/{orderNo}/confirm-receipt", { params: { path: { orderNo } } })), onSuccess: done });
  const refund = useMutation({
    mutationFn: () => call(api.POST("/api/v1/orders/{orderNo}/refund", { params: { path: { orderNo } }, body: { reason } })),
    onSuccess: async () => {
      setRefunding(false);
      await Promise.all([qc.invalidateQueries({ queryKey: ["order", orderNo] }), qc.invalidateQueries({ queryKey: ["refunds", orderNo] })]);
    },
  });

  if (order.isPending) return <Loading />;
  if (order.error) return <ErrorNote error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data;
  const refundList = (Array.isArray(refunds.data) ? refunds.data : ((refunds.data as unknown as { items?: Schemas["AfterSales"][] })?.items ?? [])) as Schemas["AfterSales"][];

  return (
    <div className="stack">
      <div className="row spread">
        <h1>{t("orders.detail")}</h1>
        <StatusTag status={o.status} />
      </div>
      <p className="muted">
        {t("orders.orderNo")} <span data-testid="order-no">{o.orderNo}</span> · {formatTime(o.createdAt, i18n.language)}
        {o.source === "SECKILL" && ` · ${t("orders.seckill")}`}
      </p>
      <div className="row wrap">
        {o.status === "PENDING_PAYMENT" && (
          <>
            <Link className="btn btn-primary" to={`/pay/${o.orderNo}`}>
              {t("orders.pay")}
            </Link>
            <button type="button" className="btn" disabled={cancel.isPending} onClick={() => window.confirm(t("orders.cancelConfirm")) && cancel.mutate()}>
              {t("orders.cancel")}
            </button>
          </>
        )}
        {o.status === "SHIPPED" && (
          <button type="button" className="btn btn-primary" disabled={confirm.isPending} onClick={() => confirm.mutate()}>
            {t("orders.confirm")}
          </button>
        )}
        {(o.status === "PAID" || o.status === "SHIPPED") && !refunding && (
          <button type="button" className="btn" onClick={() => setRefunding(true)}>
            {t("orders.refund")}
          </button>
        )}
      </div>
      <ErrorNote error={cancel.error ?? confirm.error} />
      {refunding && (
        <form
          className="card stack-sm"
          onSubmit={(e) => {
            e.preventDefault();
            refund.mutate();
          }}
        >
          <Field id="refund-reason" label={t("orders.refundReason")}>
            <textarea id="refund-reason" required minLength={1} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          </Field>
          <ErrorNote error={refund.error} />
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={refund.isPending || !reason.trim()}>
              {t("orders.refundSubmit")}
            </button>
            <button type="button" className="btn" onClick={() => setRefunding(false)}>
              {t("address.cancel")}
            </button>
          </div>
        </form>
      )}

      <section className="card stack-sm" aria-labelledby="items-h">
        <h2 id="items-h">{t("orders.items")}</h2>
        <ul className="list">
          {o.items.map((i) => (
            <li key={i.skuId} className="stack-xs">
              <div className="row">
                <ProductImage src={i.imageUrl} title={i.title} size="sm" />
                <div className="grow">
                  <Link to={`/products/${i.productId}`}>{i.title}</Link>
                  <div className="muted small">{Object.values(i.attrs).join(" / ")}</div>
                </div>
                <span>
                  <Money value={i.unitPrice} currency={o.currency} /> × {i.quantity}
                </span>
              </div>
              {o.status === "COMPLETED" && <ReviewForm orderNo={o.orderNo} item={i} />}
            </li>
          ))}
        </ul>
        <dl className="summary">
          <dt>{t("checkout.itemsTotal")}</dt>
          <dd><Money value={o.itemsTotal} currency={o.currency} /></dd>
          {o.discount > 0 && (
            <>
              <dt>{t("checkout.discount")}</dt>
              <dd>−<Money value={o.discount} currency={o.currency} /></dd>
            </>
          )}
          {o.pointsDeduction > 0 && (
            <>
              <dt>{t("checkout.pointsDeduction")}</dt>
              <dd>−<Money value={o.pointsDeduction} currency={o.currency} /></dd>
            </>
          )}
          <dt>{t("checkout.shipping")}</dt>
          <dd>{o.shippingFee ? <Money value={o.shippingFee} currency={o.currency} /> : t("checkout.free")}</dd>
          <dt className="strong">{t("orders.total")}</dt>
          <dd className="strong"><Money value={o.payable} currency={o.currency} /></dd>
        </dl>
      </section>

      <section className="card stack-sm" aria-labelledby="addr-h">
        <h2 id="addr-h">{t("orders.address")}</h2>
        <p>{addressLine(o.address)}</p>
        {o.shipment && <p>{t("orders.shipment", { carrier: o.shipment.carrier, trackingNo: o.shipment.trackingNo })}</p>}
      </section>

      <section className="card stack-sm" aria-labelledby="tl-h">
        <h2 id="tl-h">{t("orders.timeline")}</h2>
        <ol className="timeline">
          {o.timeline.map((e, n) => (
            <li key={n}>
              <StatusTag status={e.status} /> <span className="muted small">{formatTime(e.at, i18n.language)}</span>
              {e.note && <span className="small"> · {e.note}</span>}
            </li>
          ))}
        </ol>
      </section>

      {refundList.length > 0 && (
        <section className="card stack-sm" aria-labelledby="rf-h">
          <h2 id="rf-h">{t("orders.refunds")}</h2>
          <ul className="list">
            {refundList.map((r) => (
              <li key={r.id} className="row spread">
                <span>{r.reason}</span>
                <span>
                  <Money value={r.amount} currency={r.currency} /> <StatusTag status={r.status} />
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

export default function OrderDetail() {
  return (
    <RequireAuth>
      <OrderPage />
    </RequireAuth>
  );
}
