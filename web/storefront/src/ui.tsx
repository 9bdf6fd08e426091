/** Small building blocks every page uses. */
import { useEffect, useState, type ReactNode } from "react";
import { Link, Navigate, useLocation } from "react-router";
import { useTranslation } from "react-i18next";
import { formatMoney } from "../../shared";
import { useErrorText, useSession } from "./api";

export function Money({ value, currency = "CNY" }: { value: number | null | undefined; currency?: string }) {
  const { i18n } = useTranslation();
  return <span className="money">{formatMoney(value, currency, i18n.language)}</span>;
}

export function useMoney() {
  const { i18n } = useTranslation();
  return (v: number | null | undefined, currency = "CNY") => formatMoney(v, currency, i18n.language);
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="muted" role="status" aria-live="polite">
      {t("common.loading")}
    </p>
  );
}

/** An error in words, with a retry when the caller can retry. */
export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const text = useErrorText();
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      <span>{text(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-link" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = "ok" }: { children: ReactNode; kind?: "ok" | "info" }) {
  return (
    <div className={`alert alert-${kind}`} role="status" aria-live="polite">
      {children}
    </div>
  );
}

export function Pager({ page, pageSize, total, onPage }: { page: number; pageSize: number; total: number; onPage: (p: number) => void }) {
  const { t } = useTranslation();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label={t("common.page", { page, pages })}>
      <button type="button" className="btn" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t("common.prev")}
      </button>
      <span>{t("common.page", { page, pages })}</span>
      <button type="button" className="btn" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t("common.next")}
      </button>
    </nav>
  );
}

export function StatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  return <span className={`tag tag-${status.toLowerCase()}`}>{t(`status.${status}`, { defaultValue: status })}</span>;
}

/** Pages that need a signed-in buyer send others to the login page and back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const loc = useLocation();
  if (!session.tokens) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  return <>{children}</>;
}

/** A letter tile standing in for product images (the demo catalog has none). */
export function ProductImage({ src, title, size = "md" }: { src?: string | null; title: string; size?: "sm" | "md" | "lg" }) {
  if (src) return <img className={`pimg pimg-${size}`} src={src} alt={title} loading="lazy" />;
  const hue = [...title].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  return (
    <div className={`pimg pimg-${size} pimg-ph`} style={{ background: `hsl(${hue} 55% 90%)`, color: `hsl(${hue} 45% 30%)` }} aria-hidden="true">
      {[...title][0]}
    </div>
  );
}

export function ProductCard({ p }: { p: { id: number; title: string; subtitle?: string; imageUrl?: string | null; minPrice: number; currency?: string; sales?: number } }) {
  const { t } = useTranslation();
  return (
    <li className="card product-card">
      <Link to={`/products/${p.id}`} className="product-link">
        <ProductImage src={p.imageUrl} title={p.title} />
        <span className="product-title">{p.title}</span>
      </Link>
      {p.subtitle && <span className="muted small">{p.subtitle}</span>}
      <span className="row spread">
        <Money value={p.minPrice} currency={p.currency} />
        {p.sales !== undefined && <span className="muted small">{t("product.sales", { count: p.sales })}</span>}
      </span>
    </li>
  );
}

/** Remaining time to `to`, ticking every second; null once reached. */
export function useCountdown(to: string | number | null | undefined): number | null {
  const target = to ? new Date(to).getTime() : NaN;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!Number.isFinite(target)) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [target]);
  if (!Number.isFinite(target)) return null;
  const left = target - now;
  return left > 0 ? left : null;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${d ? `${d}d ` : ""}${hh}:${mm}:${ss}`;
}

export function formatTime(iso: string | null | undefined, lang: string): string {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { dateStyle: "medium", timeStyle: "short" });
}

export function Field({ label, children, hint, id }: { label: string; children: ReactNode; hint?: string; id: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <span className="muted small" id={`${id}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}

/** [what the coupon takes off, its threshold] in the buyer's language (PERCENT value = basis points off). */
export function useCouponText() {
  const { t, i18n } = useTranslation();
  const money = useMoney();
  return (c: { type: "FIXED" | "PERCENT"; value: number; threshold: number }): [string, string] => [
    c.type === "FIXED" ? t("coupons.off", { amount: money(c.value) }) : t("coupons.percent", { rate: i18n.language === "en" ? c.value / 100 : (10000 - c.value) / 1000 }),
    c.threshold ? t("coupons.threshold", { amount: money(c.threshold) }) : t("coupons.noThreshold"),
  ];
}
