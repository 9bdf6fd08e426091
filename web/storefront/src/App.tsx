/** Layout (header with search, cart, inbox, account, language) and the routes, one chunk per page. */
import { lazy, Suspense, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, NavLink, Route, Routes, useLocation, useNavigate, useSearchParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call, mall, useSession } from "./api";
import { Loading, Notice } from "./ui";

const Home = lazy(() => import("./pages/Home"));
const Search = lazy(() => import("./pages/Search"));
const Product = lazy(() => import("./pages/Product"));
const Cart = lazy(() => import("./pages/Cart"));
const Checkout = lazy(() => import("./pages/Checkout"));
const Pay = lazy(() => import("./pages/Pay"));
const Orders = lazy(() => import("./pages/Orders"));
const OrderDetail = lazy(() => import("./pages/OrderDetail"));
const Account = lazy(() => import("./pages/Account"));
const Coupons = lazy(() => import("./pages/Coupons"));
const Seckill = lazy(() => import("./pages/Seckill"));
const Auth = lazy(() => import("./pages/Auth"));
const NotFound = lazy(() => import("./pages/NotFound"));

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang">
      <span className="sr-only">{t("nav.language")}</span>
      <select aria-label={t("nav.language")} value={i18n.language} onChange={(e) => void i18n.changeLanguage(e.target.value)}>
        <option value="zh-CN">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

function SearchBox() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const loc = useLocation();
  const navigate = useNavigate();
  const [q, setQ] = useState(loc.pathname === "/search" ? (params.get("q") ?? "") : "");
  useEffect(() => {
    if (loc.pathname === "/search") setQ(params.get("q") ?? "");
  }, [loc.pathname, params]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/search?q=${encodeURIComponent(q.trim())}`);
  };
  return (
    <form role="search" className="searchbox" onSubmit={submit}>
      <input type="search" name="q" aria-label={t("search.label")} placeholder={t("search.placeholder")} value={q} onChange={(e) => setQ(e.target.value)} />
      <button type="submit" className="btn btn-primary">
        {t("search.button")}
      </button>
    </form>
  );
}

function Header() {
  const { t } = useTranslation();
  const session = useSession();
  const signedIn = !!session.tokens;
  const cart = useQuery({ queryKey: ["cart"], queryFn: () => call(api.GET("/api/v1/cart")), enabled: signedIn });
  // the inbox may not be deployed: no badge then, never an error. Messages arrive on their own
  // (an order paid, shipped…): asked again on every page the buyer opens and once a minute
  const loc = useLocation();
  const inbox = useQuery({
    queryKey: ["inbox-unread"],
    queryFn: () => call(api.GET("/api/v1/users/me/messages/unread-count")).catch(() => null),
    enabled: signedIn,
    staleTime: 0,
    refetchInterval: 60_000,
  });
  const refetchUnread = inbox.refetch;
  const firstPath = useRef(loc.pathname);
  useEffect(() => {
    // the first page's count comes with the query itself
    if (firstPath.current === loc.pathname) return;
    firstPath.current = "";
    if (signedIn) void refetchUnread();
  }, [loc.pathname, signedIn, refetchUnread]);
  const count = cart.data?.items.reduce((n, i) => n + i.quantity, 0) ?? 0;
  const unread = inbox.data?.unread ?? 0;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const logout = async () => {
    await mall.logout();
    qc.clear();
    navigate("/");
  };
  return (
    <header className="site-header">
      <div className="container header-row">
        <Link to="/" className="logo">
          {t("brand")}
        </Link>
        <SearchBox />
        <nav aria-label={t("nav.menu")} className="nav">
          <NavLink to="/coupons">{t("nav.coupons")}</NavLink>
          <NavLink to="/cart" aria-label={`${t("nav.cart")} ${count}`}>
            {t("nav.cart")}
            {count > 0 && <span className="badge" data-testid="cart-count">{count}</span>}
          </NavLink>
          {signedIn ? (
            <>
              <NavLink to="/orders">{t("nav.orders")}</NavLink>
              <NavLink to="/account/inbox" aria-label={`${t("nav.inbox")}${unread ? ` ${unread}` : ""}`}>
                {t("nav.inbox")}
                {unread > 0 && <span className="badge" data-testid="inbox-unread">{unread}</span>}
              </NavLink>
              <NavLink to="/account">{session.user?.username ?? t("nav.account")}</NavLink>
              <button type="button" className="btn btn-link" onClick={() => void logout()}>
                {t("nav.logout")}
              </button>
            </>
          ) : (
            <>
              <NavLink to="/login">{t("nav.login")}</NavLink>
              <NavLink to="/register">{t("nav.register")}</NavLink>
            </>
          )}
          <LanguageSwitch />
        </nav>
      </div>
    </header>
  );
}

/** Tells the buyer when a refresh failed and the session ended, then sends them to sign in. */
function SessionWatcher() {
  const [expired, setExpired] = useState(false);
  const navigate = useNavigate();
  const loc = useLocation();
  const qc = useQueryClient();
  const { t } = useTranslation();
  useEffect(
    () =>
      mall.session.subscribe((_s, reason) => {
        if (reason !== "expired") return;
        setExpired(true);
        qc.clear();
        navigate(`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`);
      }),
    [navigate, loc, qc],
  );
  return expired && loc.pathname === "/login" ? <Notice kind="info">{t("auth.expired")}</Notice> : null;
}

export function App() {
  const { t } = useTranslation();
  const loc = useLocation();
  useEffect(() => {
    document.title = t("brand");
  }, [t]);
  // a new page starts at the top
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [loc.pathname]);
  return (
    <>
      <a href="#main" className="skip-link">
        {t("skip")}
      </a>
      <Header />
      <main id="main" className="container" tabIndex={-1}>
        <SessionWatcher />
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/search" element={<Search />} />
            <Route path="/products/:id" element={<Product />} />
            <Route path="/cart" element={<Cart />} />
            <Route path="/checkout" element={<Checkout />} />
            <Route path="/pay/:orderNo" element={<Pay />} />
            <Route path="/orders" element={<Orders />} />
            <Route path="/orders/:orderNo" element={<OrderDetail />} />
            <Route path="/account/*" element={<Account />} />
            <Route path="/coupons" element={<Coupons />} />
            <Route path="/seckill/:id" element={<Seckill />} />
            <Route path="/login" element={<Auth mode="login" />} />
            <Route path="/register" element={<Auth mode="register" />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site-footer">
        <div className="container muted small">© Mall · <a href="/api/docs">API</a></div>
      </footer>
    </>
  );
}
