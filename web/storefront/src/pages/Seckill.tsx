/**
 * A flash sale: countdown to the start / end, the purchase (202 QUEUED with a ticket), then the
 * ticket polled until the order exists — ending on that order's pay button.
 */
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../../shared";
import { api, call, useSession, type SeckillTicket } from "../api";
import { ErrorNote, Field, Loading, Money, Notice, formatDuration, useCountdown } from "../ui";
import { addressLine } from "./AddressForm";

/** A ticket this tab got for a sale: a reload of /seckill/:id picks up where the purchase stands. */
const ticketKey = (id: number) => `mall.seckill.ticket.${id}`;
function savedTicket(id: number): string | null {
  try {
    return sessionStorage.getItem(ticketKey(id));
  } catch {
    return null;
  }
}
function saveTicket(id: number, ticket: string | null) {
  try {
    if (ticket) sessionStorage.setItem(ticketKey(id), ticket);
    else sessionStorage.removeItem(ticketKey(id));
  } catch {
    /* private mode: the poll still runs for this page */
  }
}

export default function Seckill() {
  const { id: param = "" } = useParams();
  // the route takes any text; the service knows sales by positive integer ids only
  const id = /^[1-9]\d{0,15}$/.test(param) ? Number(param) : null;
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const event = useQuery({
    queryKey: ["seckill", id],
    queryFn: () => call(api.GET("/api/v1/seckill/events/{id}", { params: { path: { id: id! } } })),
    enabled: id !== null,
    refetchInterval: 5_000,
    retry: false,
  });
  const addresses = useQuery({ queryKey: ["addresses"], queryFn: () => call(api.GET("/api/v1/users/me/addresses")), enabled: !!session.tokens });
  const [addressId, setAddressId] = useState<number | null>(null);
  const [ticket, setTicket] = useState<string | null>(() => (id !== null && session.tokens ? savedTicket(id) : null));
  const [result, setResult] = useState<Pick<SeckillTicket, "status" | "orderNo" | "reason"> | null>(() => (ticket ? { status: "QUEUED" } : null));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const e = event.data;
  const now = Date.now();
  const cancelled = e?.status === "cancelled";
  const upcoming = e ? new Date(e.startAt).getTime() > now : false;
  const ended = e ? e.status === "ended" || new Date(e.endAt).getTime() <= now : false;
  const soldOut = e ? e.remaining <= 0 : false;
  const left = useCountdown(e && !cancelled ? (upcoming ? e.startAt : e.endAt) : null);
  const list = addresses.data ?? [];
  const chosen = addressId ?? list.find((a) => a.isDefault)?.id ?? list[0]?.id ?? null;

  // the purchase is queued: poll the ticket until the order is written (or the attempt failed)
  useEffect(() => {
    if (!ticket || id === null) return;
    let stop = false;
    const poll = async () => {
      for (let i = 0; i < 120 && !stop; i++) {
        try {
          const r = await call(api.GET("/api/v1/seckill/tickets/{ticket}", { params: { path: { ticket } } }));
          if (stop) return;
          if (r.status !== "QUEUED") {
            setResult(r);
            if (r.status === "FAILED") saveTicket(id, null);
            // the new order is in "my orders", and the shop has told the buyer in the inbox
            void qc.invalidateQueries({ queryKey: ["orders"] });
            void qc.invalidateQueries({ queryKey: ["inbox-unread"] });
            return;
          }
        } catch (err) {
          if (stop) return;
          if (err instanceof ApiError && err.status === 404) {
            // a ticket kept from an earlier visit that is not this buyer's (or no longer known)
            saveTicket(id, null);
            setTicket(null);
            setResult(null);
            return;
          }
          if (!(err instanceof ApiError) || err.status >= 500 || err.status === 0 || err.status === 429) {
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
  }, [ticket, id, qc]);

  const buy = async () => {
    if (!session.tokens) return navigate(`/login?next=${encodeURIComponent(`/seckill/${param}`)}`);
    if (!chosen || id === null) return;
    setBusy(true);
    setError(null);
    try {
      const r = await call(api.POST("/api/v1/seckill/events/{id}/purchase", { params: { path: { id } }, body: { quantity: 1, addressId: chosen } }));
      setResult({ status: r.status });
      saveTicket(id, r.ticket);
      setTicket(r.ticket);
      void qc.invalidateQueries({ queryKey: ["seckill"] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (id === null || event.error) {
    const notFound = id === null || (event.error instanceof ApiError && event.error.status === 404);
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
  if (event.isPending) return <Loading />;
  const ev = e!;
  return (
    <div className="narrow stack">
      <h1>{ev.title}</h1>
      <div className="card stack-sm">
        <p className="price-big">
          <Money value={ev.price} currency={ev.currency} />
          {ev.originalPrice > ev.price ? (
            <s className="muted small">
              <Money value={ev.originalPrice} currency={ev.currency} />
            </s>
          ) : null}
        </p>
        <p className="countdown" role="timer" aria-live="off">
          {cancelled ? t("seckill.cancelled") : ended || left === null ? t("seckill.ended") : `${upcoming ? t("seckill.startsIn") : t("seckill.endsIn")} ${formatDuration(left)}`}
        </p>
        <p className="muted small">
          <span data-testid="seckill-remaining">{soldOut ? t("seckill.soldOut") : t("seckill.remaining", { count: ev.remaining })}</span> · {t("seckill.limit", { count: ev.perUserLimit })}
        </p>
        {ev.productId > 0 && <Link to={`/products/${ev.productId}`}>{t("product.choose")}</Link>}
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
        <button type="button" className="btn btn-accent btn-lg" disabled={busy || cancelled || upcoming || ended || soldOut || (!!session.tokens && !chosen)} onClick={() => void buy()}>
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
