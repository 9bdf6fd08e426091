/**
 * The console shell: sign-in, the menu (what a role may use), the pages (each its own chunk).
 * An operator runs the daily work (catalog, stock, orders, refunds, marketing, messages, dead
 * letters); analytics and user administration are an admin's. The server enforces every rule;
 * the console hides what a role cannot do and says so when a page is opened anyway.
 */
import { lazy, Suspense, useState, type ReactNode } from "react";
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Alert, App as AntApp, Button, Card, ConfigProvider, Form, Input, Layout, Menu, Result, Space, Spin, Tag, Typography } from "antd";
import {
  AppstoreOutlined,
  BarChartOutlined,
  DashboardOutlined,
  DatabaseOutlined,
  GiftOutlined,
  InboxOutlined,
  MailOutlined,
  ShoppingOutlined,
  TeamOutlined,
  WarningOutlined,
} from "@ant-design/icons";
import { describe, isAdmin, isStaff, mall, TAG } from "./api";
import { SessionProvider, useSession } from "./session";

const Dashboard = lazy(() => import("./pages/Dashboard"));
const Analytics = lazy(() => import("./pages/Analytics"));
const Catalog = lazy(() => import("./pages/Catalog"));
const Inventory = lazy(() => import("./pages/Inventory"));
const Orders = lazy(() => import("./pages/Orders"));
const Marketing = lazy(() => import("./pages/Marketing"));
const Messages = lazy(() => import("./pages/Messages"));
const Users = lazy(() => import("./pages/Users"));
const DeadLetters = lazy(() => import("./pages/DeadLetters"));

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 5_000 } } });

interface Page {
  path: string;
  label: string;
  icon: ReactNode;
  element: ReactNode;
  adminOnly?: boolean;
}
const PAGES: Page[] = [
  { path: "/", label: "Dashboard", icon: <DashboardOutlined />, element: <Dashboard /> },
  { path: "/analytics", label: "Analytics", icon: <BarChartOutlined />, element: <Analytics />, adminOnly: true },
  { path: "/catalog", label: "Catalog", icon: <AppstoreOutlined />, element: <Catalog /> },
  { path: "/inventory", label: "Inventory", icon: <DatabaseOutlined />, element: <Inventory /> },
  { path: "/orders", label: "Orders & refunds", icon: <ShoppingOutlined />, element: <Orders /> },
  { path: "/marketing", label: "Marketing", icon: <GiftOutlined />, element: <Marketing /> },
  { path: "/messages", label: "Messages", icon: <MailOutlined />, element: <Messages /> },
  { path: "/users", label: "Users", icon: <TeamOutlined />, element: <Users />, adminOnly: true },
  { path: "/dead-letters", label: "Dead letters", icon: <WarningOutlined />, element: <DeadLetters /> },
];

function Login() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { expired } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  async function submit(v: { username: string; password: string }) {
    setBusy(true);
    setError(null);
    try {
      const data = await mall.login(v.username, v.password);
      if (!isStaff((data.user as { roles?: string[] }).roles)) {
        await mall.logout();
        setError("This account is not staff: the console is for operators and admins.");
        return;
      }
      navigate((location.state as { from?: string } | null)?.from ?? "/", { replace: true });
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main style={{ minHeight: "100vh", display: "grid", placeItems: "center", background: "#f0f2f5" }}>
      <Card style={{ width: 360 }}>
        <Typography.Title level={1} style={{ fontSize: 24 }}>
          Mall Admin
        </Typography.Title>
        {expired && <Alert type="warning" showIcon message="Your session ended. Sign in again." style={{ marginBottom: 16 }} />}
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item label="Username" name="username" rules={[{ required: true, message: "Enter your username" }]}>
            <Input autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item label="Password" name="password" rules={[{ required: true, message: "Enter your password" }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            Sign in
          </Button>
        </Form>
      </Card>
    </main>
  );
}

export function Forbidden() {
  return <Result status="403" title="Admins only" subTitle="Your role does not allow this page. Ask an admin if you need it." extra={<Link to="/">Back to the dashboard</Link>} />;
}

function Shell() {
  const { user } = useSession();
  const location = useLocation();
  if (!user || !isStaff(user.roles)) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  const admin = isAdmin(user.roles);
  const visible = PAGES.filter((p) => admin || !p.adminOnly);
  const current = PAGES.find((p) => p.path !== "/" && location.pathname.startsWith(p.path))?.path ?? "/";
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={220}>
        <div style={{ padding: "16px 24px", fontWeight: 600, fontSize: 18 }}>
          <InboxOutlined /> Mall Admin
        </div>
        <nav aria-label="Console sections">
          <Menu mode="inline" selectedKeys={[current]} items={visible.map((p) => ({ key: p.path, icon: p.icon, label: <Link to={p.path}>{p.label}</Link> }))} />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: "#fff", display: "flex", justifyContent: "flex-end", alignItems: "center", paddingInline: 24 }}>
          <Space>
            <span data-testid="who">{user.username}</span>
            {user.roles.filter((r) => r !== "customer").map((r) => (
              <Tag key={r} color={TAG[r === "admin" ? "red" : "blue"]}>
                {r}
              </Tag>
            ))}
            <Button onClick={() => void mall.logout()}>Sign out</Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>
          <main>
            <Suspense fallback={<Spin />}>
              <Routes>
                {PAGES.map((p) => (
                  <Route key={p.path} path={p.path === "/" ? "/" : `${p.path}/*`} element={p.adminOnly && !admin ? <Forbidden /> : p.element} />
                ))}
                <Route path="*" element={<Result status="404" title="No such page" extra={<Link to="/">Back to the dashboard</Link>} />} />
              </Routes>
            </Suspense>
          </main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export function App() {
  return (
    <ConfigProvider
      // antd's default link blue, danger red and grey secondary text are under WCAG AA contrast on white
      theme={{ token: { colorPrimary: "#1554ad", colorLink: "#1554ad", colorError: "#cf1322", colorTextDescription: "rgba(0, 0, 0, 0.65)", colorTextTertiary: "rgba(0, 0, 0, 0.65)", colorTextPlaceholder: "rgba(0, 0, 0, 0.6)" } }}
    >
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <SessionProvider>
            <BrowserRouter basename="/admin">
              <Routes>
                <Route path="/login" element={<Login />} />
                <Route path="/*" element={<Shell />} />
              </Routes>
            </BrowserRouter>
          </SessionProvider>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
