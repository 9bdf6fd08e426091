/**
 * A flash sale: countdown to the start / end, the purchase (202 QUEUED with a ticket), then the
 * ticket polled until the order exists — ending on that order's pay button.
 */
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../../shared";
import { api, call, raw, useSession, type SeckillEvent, type SeckillTicket } from "../api";
import { ErrorNote, Field, Loading, Money, Notice, formatDuration, useCountdown } from "../ui";
import { addressLine } from "./AddressForm";

export default function Seckill() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const event = useQuery({
    queryKey: ["seckill", id],
    queryFn: () => raw<SeckillEvent>("GET", `/api/v1/seckill/events/${encodeURIComponent(id)}`),
    refetchInterval: 5_000,
    retry: false,
  });
  const addresses = useQuery({ queryKey: ["addresses"], queryFn: () => call(api.GET("/api/v1/users/me/addresses")), enabled: !!session.tokens });
  const [addressId, setAddressId] = useState<number | null>(null);
  const [ticket, setTicket] = useState<string | null>(null);
  const [result, setResult] = useState<SeckillTicket | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const e = event.data;
  const now = Date.now();
  const upcoming = e ? new Date(e.startAt).getTime() > now : false;
  const ended = e ? new Date(e.endAt).getTime() <= now : false;
  const left = useCountdown(e ? (upcoming ? e.startAt : e.endAt) : null);
  const list = addresses.data ?? [];
  const chosen = addressId ?? list.find((a) => a.isDefault)?.id ?? list[0]?.id ?? null;

  // the purchase is queued: poll the ticket until the order is written (or the attempt failed)
  useEffect(() => {
    if (!ticket) return;
    let stop = false;
    const poll = async () => {
      for (let i = 0; i < 120 && !stop; i++) {
        try {
          const r = await raw<SeckillTicket>("GET", `/api/v1/seckill/tickets/${encodeURIComponent(ticket)}`);
          if (r.status !== "QUEUED") {
            setResult(r);
            return;
          }
        } catch (err) {
          if (!(err instanceof ApiError) || err.status >= 500 || err.status === 0) {
            /* transient: keep polling */
          } else {
            setError(err);
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [ticket]);

  const buy = async () => {
    if (!session.tokens) return navigate(`/login?next=${encodeURIComponent(`/seckill/${id}`)}`);
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      const r = await raw<{ ticket: string; status: string }>("POST", `/api/v1/seckill/events/${encodeURIComponent(id)}/purchase`, { body: { quantity: 1, addressId: chosen } });
      setResult({ status: "QUEUED" });
      setTicket(r.ticket);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (event.isPending) return <Loading />;
  if (event.error) {
    const notFound = event.error instanceof ApiError && event.error.status === 404 && event.error.type === "SECKILL_EVENT_NOT_FOUND";
    return (
      <div className="stack center">
        <h1>{t("seckill.title")}</h1>
        <div className="alert alert-info" role="status">
          {notFound ? t("seckill.notFound") : t("seckill.unavailable")}
        </div>
        <Link to="/">{t("common.backHome")}</Link>
      </div>
    );
  }
  const ev = e!;
  return (
    <div className="narrow stack">
      <h1>{ev.title}</h1>
      <div className="card stack-sm">
        <p className="price-big">
          <Money value={ev.price} currency={ev.currency} />
          {ev.originalPrice ? (
            <s className="muted small">
              <Money value={ev.originalPrice} currency={ev.currency} />
            </s>
          ) : null}
        </p>
        <p className="countdown" role="timer" aria-live="off">
          {ended || left === null ? t("seckill.ended") : `${upcoming ? t("seckill.startsIn") : t("seckill.endsIn")} ${formatDuration(left)}`}
        </p>
        <p className="muted small">
          {t("seckill.remaining", { count: ev.remaining })} · {t("seckill.limit", { count: ev.perUserLimit })}
        </p>
        {ev.productId && <Link to={`/products/${ev.productId}`}>{t("product.choose")}</Link>}
      </div>
      {session.tokens && list.length > 0 && (
        <Field id="sk-address" label={t("seckill.address")}>
          <select id="sk-address" value={chosen ?? ""} onChange={(x) => setAddressId(Number(x.target.value))}>
            {list.map((a) => (
              <option key={a.id} value={a.id}>
                {addressLine(a)}
              </option>
            ))}
          </select>
        </Field>
      )}
      {session.tokens && addresses.data && list.length === 0 && (
        <Link to="/account/addresses" className="btn">
          {t("checkout.addAddress")}
        </Link>
      )}
      {!result && (
        <button type="button" className="btn btn-accent btn-lg" disabled={busy || upcoming || ended || ev.remaining <= 0 || (!!session.tokens && !chosen)} onClick={() => void buy()}>
          {t("seckill.buy")}
        </button>
      )}
      {result?.status === "QUEUED" && <Notice kind="info">{t("seckill.queued")}</Notice>}
      {result?.status === "SUCCEEDED" && result.orderNo && (
        <div className="stack-sm">
          <Notice>{t("seckill.success")}</Notice>
          <Link className="btn btn-primary btn-lg" to={`/pay/${result.orderNo}`}>
            {t("seckill.pay")}
          </Link>
        </div>
      )}
      {result?.status === "FAILED" && <div className="alert alert-error" role="alert">{t("seckill.failed")}</div>}
      <ErrorNote error={error} />
    </div>
  );
}
