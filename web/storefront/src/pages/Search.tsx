import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call, yuanToFen } from "../api";
import { ErrorNote, Field, Loading, Pager, ProductCard } from "../ui";

type Sort = "price_asc" | "price_desc" | "sales" | "newest";
const SORTS: ("" | Sort)[] = ["", "sales", "price_asc", "price_desc", "newest"];

function flatten(nodes: Schemas["CategoryNode"][], depth = 0): { id: number; name: string }[] {
  return nodes.flatMap((n) => [{ id: n.id, name: `${"　".repeat(depth)}${n.name}` }, ...flatten(n.children ?? [], depth + 1)]);
}

export default function Search() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const num = (k: string) => (params.get(k) ? Number(params.get(k)) : undefined);
  const query = {
    q: q || undefined,
    categoryId: num("categoryId"),
    brandId: num("brandId"),
    minPrice: num("minPrice"),
    maxPrice: num("maxPrice"),
    sort: (params.get("sort") || undefined) as Sort | undefined,
    page: num("page") ?? 1,
    pageSize: 20,
  };
  const results = useQuery({
    queryKey: ["products", query],
    queryFn: () => call(api.GET("/api/v1/products", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const categories = useQuery({ queryKey: ["categories"], queryFn: () => call(api.GET("/api/v1/categories")) });
  const brands = useQuery({ queryKey: ["brands"], queryFn: () => call(api.GET("/api/v1/brands")) });

  const [min, setMin] = useState(query.minPrice !== undefined ? String(query.minPrice / 100) : "");
  const [max, setMax] = useState(query.maxPrice !== undefined ? String(query.maxPrice / 100) : "");

  const update = (changes: Record<string, string | number | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === "") next.delete(k);
      else next.set(k, String(v));
    }
    if (!("page" in changes)) next.delete("page");
    setParams(next);
  };
  const applyPrice = (e: FormEvent) => {
    e.preventDefault();
    update({ minPrice: yuanToFen(min), maxPrice: yuanToFen(max) });
  };
  const brandList = Array.isArray(brands.data) ? brands.data : ((brands.data as unknown as { items?: Schemas["Brand"][] })?.items ?? []);

  return (
    <div className="search-layout">
      <aside className="filters card" aria-label={t("search.filters")}>
        <Field id="f-category" label={t("search.category")}>
          <select id="f-category" value={query.categoryId ?? ""} onChange={(e) => update({ categoryId: e.target.value })}>
            <option value="">{t("search.all")}</option>
            {flatten(categories.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-brand" label={t("search.brand")}>
          <select id="f-brand" value={query.brandId ?? ""} onChange={(e) => update({ brandId: e.target.value })}>
            <option value="">{t("search.all")}</option>
            {brandList.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </select>
        </Field>
        <form onSubmit={applyPrice} className="stack-sm">
          <Field id="f-min" label={t("search.minPrice")}>
            <input id="f-min" inputMode="decimal" value={min} onChange={(e) => setMin(e.target.value)} />
          </Field>
          <Field id="f-max" label={t("search.maxPrice")}>
            <input id="f-max" inputMode="decimal" value={max} onChange={(e) => setMax(e.target.value)} />
          </Field>
          <button type="submit" className="btn">
            {t("search.apply")}
          </button>
        </form>
        <Field id="f-sort" label={t("search.sort")}>
          <select id="f-sort" value={query.sort ?? ""} onChange={(e) => update({ sort: e.target.value })}>
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t(`search.sorts.${s || "relevance"}`)}
              </option>
            ))}
          </select>
        </Field>
      </aside>
      <section className="stack" aria-labelledby="results-title">
        <h1 id="results-title">{q ? `“${q}”` : t("nav.search")}</h1>
        {results.isPending && <Loading />}
        <ErrorNote error={results.error} onRetry={() => void results.refetch()} />
        {results.data && (
          <>
            <p className="muted" role="status">
              {results.data.total ? t("search.results", { count: results.data.total }) : t("search.none")}
            </p>
            <ul className="grid">
              {results.data.items.map((p) => (
                <ProductCard key={p.id} p={p} />
              ))}
            </ul>
            <Pager page={results.data.page} pageSize={results.data.pageSize} total={results.data.total} onPage={(p) => update({ page: p })} />
          </>
        )}
      </section>
    </div>
  );
}
