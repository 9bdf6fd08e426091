import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call } from "../api";
import { ErrorNote, Loading, Money, Notice, RequireAuth, formatTime, useMoney } from "../ui";

function PayPage() {
  const { orderNo = "" } = useParams();
  const { t, i18n } = useTranslation();
  const money = useMoney();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const order = useQuery({ queryKey: ["order", orderNo], queryFn: () => call(api.GET("/api/v1/orders/{orderNo}", { params: { path: { orderNo } } })) });
  const channels = useQuery({ queryKey: ["pay-channels"], queryFn: () => call(api.GET("/api/v1/payments/channels")) });
  const wallet = useQuery({ queryKey: ["wallet"], queryFn: () => call(api.GET("/api/v1/users/me/wallet")) });
  const [channel, setChannel] = useState<"sandbox" | "wallet" | null>(null);
  const [payment, setPayment] = useState<Schemas["Payment"] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [waiting, setWaiting] = useState(false);

  const list = ((channels.data as unknown as { channels?: string[] })?.channels ?? (Array.isArray(channels.data) ? (channels.data as unknown as string[]) : [])).filter((c): c is "sandbox" | "wallet" => c === "sandbox" || c === "wallet");
  const chosen = channel ?? list[0] ?? null;

  const waitForPaid = async () => {
    setWaiting(true);
    for (let i = 0; i < 60; i++) {
      const o = await call(api.GET("/api/v1/orders/{orderNo}", { params: { path: { orderNo } } }));
      if (o.status !== "PENDING_PAYMENT") {
        qc.setQueryData(["order", orderNo], o);
        void qc.invalidateQueries({ queryKey: ["orders"] });
        navigate(`/orders/${orderNo}`, { replace: true });
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    setWaiting(false);
  };

  const pay = async () => {
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      const p = await call(api.POST("/api/v1/payments", { body: { orderNo, channel: chosen } }));
      setPayment(p);
      if (p.status === "SUCCEEDED") await waitForPaid();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const complete = async (result: "SUCCESS" | "FAIL") => {
    if (!payment) return;
    setBusy(true);
    setError(null);
    try {
      await call(api.POST("/api/v1/payments/sandbox/{paymentNo}/complete", { params: { path: { paymentNo: payment.paymentNo } }, body: { result } }));
      if (result === "SUCCESS") await waitForPaid();
      else {
        setPayment(null);
        setError(new Error("failed"));
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (order.isPending) return <Loading />;
  if (order.error) return <ErrorNote error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data;
  if (o.status !== "PENDING_PAYMENT")
    return (
      <div className="stack">
        <Notice>{t(`status.${o.status}`)}</Notice>
        <Link to={`/orders/${orderNo}`}>{t("orders.detail")}</Link>
      </div>
    );

  return (
    <div className="narrow stack">
      <h1>{payment?.channel === "sandbox" ? t("pay.sandboxPage") : t("pay.title")}</h1>
      <div className="card stack-sm">
        <p className="muted small">
          {t("orders.orderNo")} {o.orderNo}
        </p>
        <p className="price-big">
          {t("pay.amount")} <Money value={o.payable} currency={o.currency} />
        </p>
        <p className="muted small">{t("pay.expiresAt", { time: formatTime(o.expiresAt, i18n.language) })}</p>
      </div>
      {!payment && (
        <fieldset className="card stack-sm">
          <legend>{t("pay.channel")}</legend>
          {list.map((c) => (
            <label key={c} className="row radio-card">
              <input type="radio" name="channel" value={c} checked={chosen === c} onChange={() => setChannel(c)} />
              {c === "sandbox" ? t("pay.sandbox") : t("pay.wallet", { balance: money(wallet.data?.balance ?? 0) })}
            </label>
          ))}
          <button type="button" className="btn btn-primary btn-lg" disabled={!chosen || busy} onClick={() => void pay()}>
            {t("pay.payNow")}
          </button>
        </fieldset>
      )}
      {payment?.channel === "sandbox" && payment.status === "PENDING" && (
        <div className="card stack-sm sandbox">
          <p>{t("pay.sandboxHint")}</p>
          <div className="row">
            <button type="button" className="btn btn-primary btn-lg" disabled={busy} onClick={() => void complete("SUCCESS")}>
              {t("pay.succeed")}
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => void complete("FAIL")}>
              {t("pay.fail")}
            </button>
          </div>
        </div>
      )}
      {waiting && <Notice kind="info">{t("pay.waiting")}</Notice>}
      {error instanceof Error && error.message === "failed" ? <div className="alert alert-error" role="alert">{t("pay.failed")}</div> : <ErrorNote error={error} />}
    </div>
  );
}

export default function Pay() {
  return (
    <RequireAuth>
      <PayPage />
    </RequireAuth>
  );
}
