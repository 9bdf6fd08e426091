/** Sales figures (admin only): overview cards, orders and revenue per day or hour, top products. */
import { useQuery } from "@tanstack/react-query";
import { Alert, Card, Col, Row, Statistic, Table } from "antd";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { describe, mall, money } from "../api";

export interface Range {
  from?: string;
  to?: string;
  interval?: "day" | "hour";
}

export function OverviewCards({ title, range }: { title: string; range: Range }) {
  const q = useQuery({
    queryKey: ["stats", "overview", range.from, range.to],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/stats/overview", { params: { query: { from: range.from, to: range.to } } })),
    refetchInterval: 30_000,
  });
  if (q.error) return <Alert type="error" showIcon message={describe(q.error)} />;
  const o = q.data;
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)} %`);
  return (
    <Card title={title} data-testid={`overview-${title}`} loading={q.isLoading} extra={o ? <span>{o.from === o.to ? o.from : `${o.from} – ${o.to}`} ({o.tz})</span> : null}>
      <Row gutter={[16, 16]}>
        <Col xs={12} md={4}><Statistic title="Orders" value={o?.orders ?? 0} /></Col>
        <Col xs={12} md={4}><Statistic title="Paid orders" value={o?.paidOrders ?? 0} /></Col>
        <Col xs={12} md={4}><Statistic title="GMV (paid)" value={money(o?.gmv)} /></Col>
        <Col xs={12} md={4}><Statistic title="Avg. order value" value={o?.averageOrderValue === null || o?.averageOrderValue === undefined ? "—" : money(o.averageOrderValue)} /></Col>
        <Col xs={12} md={4}><Statistic title="Refunds" value={`${o?.refunds ?? 0} · ${money(o?.refundAmount)}`} /></Col>
        <Col xs={12} md={4}><Statistic title="Conversion (created → paid)" value={pct(o?.conversion)} /></Col>
      </Row>
    </Card>
  );
}

export function SalesChart({ range }: { range: Range }) {
  const q = useQuery({
    queryKey: ["stats", "sales", range.from, range.to, range.interval],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/stats/sales", { params: { query: { from: range.from, to: range.to, interval: range.interval } } })),
  });
  const data = (q.data ?? []).map((p) => ({ label: p.label, orders: p.orders, paid: p.paidOrders, revenue: p.gmv / 100 }));
  return (
    <Card title={`Orders and revenue per ${range.interval ?? "day"}`} loading={q.isLoading}>
      {q.error ? (
        <Alert type="error" showIcon message={describe(q.error)} />
      ) : (
        <div style={{ width: "100%", height: 300 }} role="img" aria-label={`Chart of orders and revenue per ${range.interval ?? "day"}`}>
          <ResponsiveContainer>
            <ComposedChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis yAxisId="n" allowDecimals={false} />
              <YAxis yAxisId="y" orientation="right" />
              <Tooltip />
              <Legend />
              <Bar yAxisId="n" dataKey="orders" name="Orders" fill="#8ab4f8" />
              <Bar yAxisId="n" dataKey="paid" name="Paid orders" fill="#1554ad" />
              <Line yAxisId="y" dataKey="revenue" name="Revenue (¥)" stroke="#c0392b" dot={false} />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}

export function TopProducts({ range, limit = 10 }: { range: Range; limit?: number }) {
  const q = useQuery({
    queryKey: ["stats", "top", range.from, range.to, limit],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/stats/top-products", { params: { query: { from: range.from, to: range.to, limit } } })),
  });
  return (
    <Card title="Top products">
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table
        size="small"
        rowKey="productId"
        loading={q.isLoading}
        pagination={false}
        dataSource={q.data ?? []}
        columns={[
          { title: "Product", dataIndex: "title" },
          { title: "Units", dataIndex: "units", align: "right" },
          { title: "Orders", dataIndex: "orders", align: "right" },
          { title: "Paid amount", dataIndex: "gmv", align: "right", render: (v: number) => money(v) },
        ]}
      />
    </Card>
  );
}
