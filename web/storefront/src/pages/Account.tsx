import { useState, type FormEvent } from "react";
import { Link, NavLink, Route, Routes } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call, inboxLink, mall, type Inbox as InboxData, type InboxMessage } from "../api";
import { ErrorNote, Field, Loading, Money, Notice, Pager, RequireAuth, StatusTag, formatTime, useCouponText } from "../ui";
import { AddressForm, addressLine } from "./AddressForm";

function Profile() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ["me"], queryFn: () => call(api.GET("/api/v1/users/me")) });
  const [form, setForm] = useState<{ nickname?: string; email?: string; mobile?: string; locale?: "zh-CN" | "en" }>({});
  const save = useMutation({
    mutationFn: () => call(api.PATCH("/api/v1/users/me", { body: Object.fromEntries(Object.entries(form).filter(([, v]) => v !== undefined)) })),
    onSuccess: (u) => {
      qc.setQueryData(["me"], u);
      mall.session.setUser(u as never);
    },
  });
  if (me.isPending) return <Loading />;
  if (me.error) return <ErrorNote error={me.error} onRetry={() => void me.refetch()} />;
  const u = me.data;
  const value = (k: "nickname" | "email" | "mobile") => form[k] ?? u[k] ?? "";
  return (
    <form
      className="card stack-sm"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <p>
        {t("auth.username")}: <strong>{u.username}</strong>
      </p>
      <Field id="nickname" label={t("account.nickname")}>
        <input id="nickname" maxLength={32} value={value("nickname")} onChange={(e) => setForm({ ...form, nickname: e.target.value })} />
      </Field>
      <Field id="email" label={t("account.email")}>
        <input id="email" type="email" value={value("email")} onChange={(e) => setForm({ ...form, email: e.target.value })} />
      </Field>
      <Field id="mobile" label={t("account.mobile")}>
        <input id="mobile" type="tel" value={value("mobile")} onChange={(e) => setForm({ ...form, mobile: e.target.value })} />
      </Field>
      <Field id="locale" label={t("account.locale")} hint={t("account.localeHint")}>
        <select id="locale" aria-describedby="locale-hint" value={form.locale ?? u.locale} onChange={(e) => setForm({ ...form, locale: e.target.value as "zh-CN" | "en" })}>
          <option value="zh-CN">中文</option>
          <option value="en">English</option>
        </select>
      </Field>
      <ErrorNote error={save.error} />
      {save.isSuccess && <Notice>{t("account.saved")}</Notice>}
      <button type="submit" className="btn btn-primary" disabled={save.isPending}>
        {t("account.save")}
      </button>
    </form>
  );
}

function Password() {
  const { t } = useTranslation();
  const [oldPassword, setOld] = useState("");
  const [newPassword, setNew] = useState("");
  const change = useMutation({ mutationFn: () => call(api.POST("/api/v1/auth/change-password", { body: { oldPassword, newPassword } })) });
  return (
    <form
      className="card stack-sm"
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate();
      }}
    >
      <Field id="old-password" label={t("account.oldPassword")}>
        <input id="old-password" type="password" autoComplete="current-password" required value={oldPassword} onChange={(e) => setOld(e.target.value)} />
      </Field>
      <Field id="new-password" label={t("account.newPassword")}>
        <input id="new-password" type="password" autoComplete="new-password" required minLength={8} maxLength={72} value={newPassword} onChange={(e) => setNew(e.target.value)} />
      </Field>
      <ErrorNote error={change.error} />
      {change.isSuccess && <Notice>{t("account.changed")}</Notice>}
      <button type="submit" className="btn btn-primary" disabled={change.isPending}>
        {t("account.save")}
      </button>
    </form>
  );
}

function Addresses() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["addresses"], queryFn: () => call(api.GET("/api/v1/users/me/addresses")) });
  const [editing, setEditing] = useState<Schemas["Address"] | "new" | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => call(api.DELETE("/api/v1/users/me/addresses/{id}", { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["addresses"] }),
  });
  if (list.isPending) return <Loading />;
  return (
    <div className="stack-sm">
      <ErrorNote error={list.error ?? remove.error} />
      <ul className="list">
        {list.data?.map((a) => (
          <li key={a.id} className="card row spread wrap">
            <span>
              {addressLine(a)} {a.isDefault && <span className="tag">{t("address.default")}</span>}
            </span>
            <span className="row">
              <button type="button" className="btn btn-link" onClick={() => setEditing(a)}>
                {t("address.edit")}
              </button>
              <button type="button" className="btn btn-link" onClick={() => remove.mutate(a.id)}>
                {t("address.remove")}
              </button>
            </span>
          </li>
        ))}
      </ul>
      {editing ? (
        <AddressForm key={editing === "new" ? "new" : editing.id} address={editing === "new" ? undefined : editing} onDone={() => setEditing(null)} onCancel={() => setEditing(null)} />
      ) : (
        <button type="button" className="btn" onClick={() => setEditing("new")}>
          {t("checkout.addAddress")}
        </button>
      )}
    </div>
  );
}

function Wallet() {
  const { t, i18n } = useTranslation();
  const w = useQuery({ queryKey: ["wallet"], queryFn: () => call(api.GET("/api/v1/users/me/wallet")) });
  if (w.isPending) return <Loading />;
  if (w.error) return <ErrorNote error={w.error} onRetry={() => void w.refetch()} />;
  return (
    <div className="stack-sm">
      <p className="price-big">
        {t("account.balance")} <Money value={w.data.balance} currency={w.data.currency} />
      </p>
      <h2>{t("account.ledger")}</h2>
      {w.data.entries.length === 0 && <p className="muted">{t("account.noEntries")}</p>}
      <ul className="list">
        {w.data.entries.map((e) => (
          <li key={e.id} className="row spread card">
            <span>
              {e.reason} <span className="muted small">{formatTime(e.createdAt, i18n.language)}</span>
            </span>
            <span className={e.type === "CREDIT" ? "plus" : "minus"}>
              {e.type === "CREDIT" ? "+" : "−"}
              <Money value={e.amount} currency={w.data.currency} />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Points() {
  const { t, i18n } = useTranslation();
  const p = useQuery({ queryKey: ["points"], queryFn: () => call(api.GET("/api/v1/users/me/points")) });
  if (p.isPending) return <Loading />;
  if (p.error) return <ErrorNote error={p.error} onRetry={() => void p.refetch()} />;
  return (
    <div className="stack-sm">
      <p className="price-big">
        {t("account.points")} {p.data.balance}
      </p>
      {p.data.entries.length === 0 && <p className="muted">{t("account.noEntries")}</p>}
      <ul className="list">
        {p.data.entries.map((e) => (
          <li key={e.id} className="row spread card">
            <span>
              {e.reason} {e.orderNo && <span className="muted small">{e.orderNo}</span>} <span className="muted small">{formatTime(e.at, i18n.language)}</span>
            </span>
            <span className={e.delta >= 0 ? "plus" : "minus"}>{e.delta >= 0 ? `+${e.delta}` : `−${-e.delta}`}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function CouponText({ c }: { c: { type: "FIXED" | "PERCENT"; value: number; threshold: number } }) {
  const text = useCouponText();
  const [value, threshold] = text(c);
  return (
    <>
      <strong className="coupon-value">{value}</strong>
      <span className="muted small">{threshold}</span>
    </>
  );
}

function MyCoupons() {
  const { t, i18n } = useTranslation();
  const [status, setStatus] = useState<"UNUSED" | "LOCKED" | "USED" | "EXPIRED">("UNUSED");
  const list = useQuery({ queryKey: ["my-coupons", status], queryFn: () => call(api.GET("/api/v1/users/me/coupons", { params: { query: { status } } })) });
  return (
    <div className="stack-sm">
      <nav className="tabs">
        {(["UNUSED", "LOCKED", "USED", "EXPIRED"] as const).map((s) => (
          <button key={s} type="button" className={`tab ${s === status ? "tab-on" : ""}`} aria-pressed={s === status} onClick={() => setStatus(s)}>
            {t(`status.${s}`)}
          </button>
        ))}
      </nav>
      {list.isPending && <Loading />}
      <ErrorNote error={list.error} />
      {list.data?.items.length === 0 && <p className="muted">{t("account.noEntries")}</p>}
      <ul className="grid">
        {list.data?.items.map((c) => (
          <li key={c.id} className="card coupon stack-xs">
            <span>{c.name}</span>
            <CouponText c={c} />
            <span className="muted small">{t("coupons.validTo", { date: formatTime(c.validTo, i18n.language) })}</span>
            <StatusTag status={c.status} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function Inbox() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<number | null>(null);
  const inbox = useQuery({
    queryKey: ["inbox", page],
    queryFn: () => call(api.GET("/api/v1/users/me/messages", { params: { query: { page, pageSize: 20 } } })),
    staleTime: 0,
    retry: false,
  });
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ["inbox"] }), qc.invalidateQueries({ queryKey: ["inbox-unread"] })]);
  const read = useMutation({
    mutationFn: (id: number) => call(api.POST("/api/v1/users/me/messages/{id}/read", { params: { path: { id } } })),
    // the message reads as read at once, and the header's count follows
    onSuccess: (m) => {
      qc.setQueryData<InboxData>(["inbox", page], (d) => (d ? { ...d, unread: Math.max(0, d.unread - 1), items: d.items.map((x) => (x.id === m.id ? m : x)) } : d));
      qc.setQueryData<{ unread: number } | null>(["inbox-unread"], (d) => (d ? { unread: Math.max(0, d.unread - 1) } : d));
      return refresh();
    },
  });
  const readAll = useMutation({ mutationFn: () => call(api.POST("/api/v1/users/me/messages/read-all")), onSuccess: refresh });
  if (inbox.isPending) return <Loading />;
  if (inbox.error) return <div className="alert alert-info" role="status">{t("account.inboxUnavailable")}</div>;
  const toggle = (m: InboxMessage) => {
    setOpen(open === m.id ? null : m.id);
    if (!m.read) read.mutate(m.id);
  };
  return (
    <div className="stack-sm">
      <div className="row spread">
        <span>
          {t("account.unread")}: <strong data-testid="inbox-count">{inbox.data.unread}</strong>
        </span>
        <button type="button" className="btn" disabled={!inbox.data.unread || readAll.isPending} onClick={() => readAll.mutate()}>
          {t("account.markAllRead")}
        </button>
      </div>
      {inbox.data.items.length === 0 && <p className="muted">{t("account.noMessages")}</p>}
      <ul className="list">
        {inbox.data.items.map((m) => {
          const to = inboxLink(m.link);
          const isOpen = open === m.id;
          return (
            <li key={m.id} className={`card stack-xs ${m.read ? "" : "unread"}`} data-testid="inbox-message">
              <button type="button" className="btn-plain" aria-expanded={isOpen} aria-controls={`message-${m.id}`} onClick={() => toggle(m)}>
                <strong>{m.subject}</strong> {!m.read && <span className="badge">{t("account.unread")}</span>}
              </button>
              <span className="muted small">{formatTime(m.createdAt, i18n.language)}</span>
              {isOpen && (
                <div id={`message-${m.id}`} className="stack-xs">
                  <p>{m.body}</p>
                  {to && <Link to={to}>{to.startsWith("/orders/") ? t("account.viewOrder") : t("account.viewDetails")}</Link>}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      <Pager page={page} pageSize={inbox.data.pageSize} total={inbox.data.total} onPage={setPage} />
      <ErrorNote error={read.error ?? readAll.error} />
    </div>
  );
}

const TABS = [
  ["", "profile"],
  ["password", "password"],
  ["addresses", "addresses"],
  ["wallet", "wallet"],
  ["points", "points"],
  ["coupons", "coupons"],
  ["inbox", "inbox"],
] as const;

function AccountPage() {
  const { t } = useTranslation();
  return (
    <div className="account-layout">
      <nav className="side-nav card" aria-label={t("account.title")}>
        {TABS.map(([path, key]) => (
          <NavLink key={key} to={`/account${path ? `/${path}` : ""}`} end>
            {t(`account.${key}`)}
          </NavLink>
        ))}
      </nav>
      <section className="stack">
        <h1>{t("account.title")}</h1>
        <Routes>
          <Route index element={<Profile />} />
          <Route path="password" element={<Password />} />
          <Route path="addresses" element={<Addresses />} />
          <Route path="wallet" element={<Wallet />} />
          <Route path="points" element={<Points />} />
          <Route path="coupons" element={<MyCoupons />} />
          <Route path="inbox" element={<Inbox />} />
        </Routes>
      </section>
    </div>
  );
}

export default function Account() {
  return (
    <RequireAuth>
      <AccountPage />
    </RequireAuth>
  );
}
