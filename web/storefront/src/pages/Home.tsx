import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call, type SeckillEvent } from "../api";
import { ErrorNote, Loading, Money, ProductCard, formatDuration, useCountdown, useMoney } from "../ui";

function FlashCard({ e }: { e: SeckillEvent }) {
  const { t } = useTranslation();
  const upcoming = new Date(e.startAt).getTime() > Date.now();
  const left = useCountdown(upcoming ? e.startAt : e.endAt);
  return (
    <li className="card flash-card">
      <Link to={`/seckill/${e.id}`} className="product-title">
        {e.title}
      </Link>
      <span className="row spread">
        <Money value={e.price} currency={e.currency} />
        <span className="tag">{upcoming ? t("home.upcoming") : t("home.active")}</span>
      </span>
      <span className="muted small">
        {left !== null ? `${upcoming ? t("seckill.startsIn") : t("seckill.endsIn")} ${formatDuration(left)}` : t("seckill.ended")} · {t("seckill.remaining", { count: e.remaining })}
      </span>
    </li>
  );
}

export default function Home() {
  const { t } = useTranslation();
  const money = useMoney();
  const promotions = useQuery({ queryKey: ["promotions"], queryFn: () => call(api.GET("/api/v1/promotions")) });
  const categories = useQuery({ queryKey: ["categories"], queryFn: () => call(api.GET("/api/v1/categories")) });
  const popular = useQuery({ queryKey: ["products", "popular"], queryFn: () => call(api.GET("/api/v1/products", { params: { query: { sort: "sales", pageSize: 12 } } })) });
  // flash sales come from the seckill service, which a shop may not run: then the section hides
  const flash = useQuery({
    queryKey: ["seckill", "home"],
    queryFn: async () => {
      const [active, upcoming] = await Promise.all([
        call(api.GET("/api/v1/seckill/events", { params: { query: { status: "active" } } })),
        call(api.GET("/api/v1/seckill/events", { params: { query: { status: "upcoming" } } })),
      ]);
      return [...active.items, ...upcoming.items];
    },
    retry: false,
  });

  return (
    <div className="stack">
      {promotions.data && promotions.data.length > 0 && (
        <section aria-labelledby="promos">
          <h2 id="promos">{t("home.promotions")}</h2>
          <ul className="promo-list">
            {promotions.data.map((p) => (
              <li key={p.id} className="promo">
                <strong>{p.name}</strong>
                <span className="muted small">
                  {p.rules
                    .map((r) => ("off" in r ? `${money(r.threshold)} − ${money(r.off)}` : `${money(r.threshold)} × ${(r as { rateBp: number }).rateBp / 100}%`))
                    .join(" · ")}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {flash.data && flash.data.length > 0 && (
        <section aria-labelledby="flash">
          <h2 id="flash">{t("home.flash")}</h2>
          <ul className="grid">
            {flash.data.map((e) => (
              <FlashCard key={e.id} e={e} />
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="cats">
        <h2 id="cats">{t("home.categories")}</h2>
        {categories.isPending && <Loading />}
        <ErrorNote error={categories.error} onRetry={() => void categories.refetch()} />
        <ul className="chips">
          {categories.data?.map((c) => (
            <li key={c.id}>
              <Link className="chip" to={`/search?categoryId=${c.id}`}>
                {c.name}
              </Link>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="popular">
        <h2 id="popular">{t("home.popular")}</h2>
        {popular.isPending && <Loading />}
        <ErrorNote error={popular.error} onRetry={() => void popular.refetch()} />
        <ul className="grid">
          {popular.data?.items.map((p) => (
            <ProductCard key={p.id} p={p} />
          ))}
        </ul>
      </section>
    </div>
  );
}
