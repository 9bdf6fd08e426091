import { Link, useSearchParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call } from "../api";
import { ErrorNote, Loading, Money, Pager, RequireAuth, StatusTag, formatTime } from "../ui";

const STATUSES = ["", "PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "REFUNDING", "REFUNDED"] as const;
type Status = Exclude<(typeof STATUSES)[number], "">;

function OrdersPage() {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") || undefined) as Status | undefined;
  const page = Number(params.get("page") ?? 1);
  const orders = useQuery({
    queryKey: ["orders", status, page],
    queryFn: () => call(api.GET("/api/v1/orders", { params: { query: { status, page, pageSize: 10 } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <div className="stack">
      <h1>{t("orders.title")}</h1>
      <nav className="tabs" aria-label={t("orders.title")}>
        {STATUSES.map((s) => (
          <button key={s} type="button" className={`tab ${(status ?? "") === s ? "tab-on" : ""}`} aria-pressed={(status ?? "") === s} onClick={() => setParams(s ? { status: s } : {})}>
            {s ? t(`status.${s}`) : t("orders.all")}
          </button>
        ))}
      </nav>
      {orders.isPending && <Loading />}
      <ErrorNote error={orders.error} onRetry={() => void orders.refetch()} />
      {orders.data && orders.data.items.length === 0 && <p className="muted">{t("orders.none")}</p>}
      <ul className="list">
        {orders.data?.items.map((o) => (
          <li key={o.orderNo} className="card stack-xs" data-testid="order-row">
            <div className="row spread">
              <Link to={`/orders/${o.orderNo}`}>
                {t("orders.orderNo")} {o.orderNo}
              </Link>
              <StatusTag status={o.status} />
            </div>
            <span className="muted small">
              {formatTime(o.createdAt, i18n.language)} · {o.items.map((i) => `${i.title} × ${i.quantity}`).join("、")}
            </span>
            <div className="row spread">
              <Money value={o.payable} currency={o.currency} />
              {o.status === "PENDING_PAYMENT" && (
                <Link className="btn btn-primary" to={`/pay/${o.orderNo}`}>
                  {t("orders.pay")}
                </Link>
              )}
            </div>
          </li>
        ))}
      </ul>
      {orders.data && <Pager page={orders.data.page} pageSize={orders.data.pageSize} total={orders.data.total} onPage={(p) => setParams({ ...(status ? { status } : {}), page: String(p) })} />}
    </div>
  );
}

export default function Orders() {
  return (
    <RequireAuth>
      <OrdersPage />
    </RequireAuth>
  );
}
