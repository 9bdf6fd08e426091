import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { api, call, useSession } from "../api";
import { ErrorNote, Loading, Notice, formatTime } from "../ui";
import { CouponText } from "./Account";

export default function Coupons() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["coupon-templates"], queryFn: () => call(api.GET("/api/v1/coupon-templates")) });
  const claim = useMutation({
    mutationFn: (id: number) => call(api.POST("/api/v1/coupon-templates/{id}/claim", { params: { path: { id } } })),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: ["coupon-templates"] }), qc.invalidateQueries({ queryKey: ["my-coupons"] })]),
  });
  const items = list.data?.items ?? [];
  return (
    <div className="stack">
      <h1>{t("coupons.title")}</h1>
      {list.isPending && <Loading />}
      <ErrorNote error={list.error} onRetry={() => void list.refetch()} />
      {claim.isSuccess && <Notice>{t("coupons.claimed")}</Notice>}
      <ErrorNote error={claim.error} />
      {list.data && items.length === 0 && <p className="muted">{t("coupons.none")}</p>}
      <ul className="grid">
        {items.map((c) => (
          <li key={c.id} className="card coupon stack-xs" data-testid="coupon-template">
            <span>{c.name}</span>
            <CouponText c={c} />
            <span className="muted small">{t("coupons.validTo", { date: formatTime(c.validTo, i18n.language) })}</span>
            <span className="muted small">{t("coupons.remaining", { count: c.remaining })}</span>
            <button
              type="button"
              className="btn btn-primary"
              disabled={c.remaining <= 0 || claim.isPending}
              aria-label={`${t("coupons.claim")} ${c.name}`}
              onClick={() => (session.tokens ? claim.mutate(c.id) : navigate("/login?next=/coupons"))}
            >
              {t("coupons.claim")}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
