/**
 * The day's work for everyone (orders to ship, refunds to decide, stock running low) and, for
 * admins, today's and the last 30 days' sales with the chart and the best sellers.
 */
import { useQuery } from "@tanstack/react-query";
import { Card, Col, Flex, List, Row, Statistic, Typography } from "antd";
import { Link } from "react-router";
import { isAdmin, mall, money } from "../api";
import { useSession } from "../session";
import { OverviewCards, SalesChart, TopProducts } from "./stats";

function WorkQueue() {
  const toShip = useQuery({ queryKey: ["orders", "PAID", "count"], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/orders", { params: { query: { status: "PAID", pageSize: 1 } } })), refetchInterval: 30_000 });
  const refunds = useQuery({ queryKey: ["refunds", "REQUESTED"], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/refunds", { params: { query: { status: "REQUESTED", pageSize: 5 } } })), refetchInterval: 30_000 });
  const low = useQuery({ queryKey: ["low-stock"], queryFn: () => mall.call(mall.api.GET("/api/v1/inventory/low-stock", { params: { query: { pageSize: 5 } } })), refetchInterval: 60_000 });
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} md={8}>
        <Card title="Orders to ship" loading={toShip.isLoading} extra={<Link to="/orders?status=PAID">Open</Link>}>
          <Statistic value={toShip.data?.total ?? 0} />
        </Card>
      </Col>
      <Col xs={24} md={8}>
        <Card title="Pending refunds" loading={refunds.isLoading} extra={<Link to="/orders/refunds">Open</Link>}>
          <Statistic value={refunds.data?.total ?? 0} />
          <List
            size="small"
            dataSource={refunds.data?.items ?? []}
            renderItem={(r) => (
              <List.Item>
                {r.orderNo} · {money(r.amount, r.currency)} · {r.reason}
              </List.Item>
            )}
          />
        </Card>
      </Col>
      <Col xs={24} md={8}>
        <Card title="Low stock" loading={low.isLoading} extra={<Link to="/inventory">Open</Link>}>
          <Statistic value={low.data?.total ?? 0} suffix="SKUs" />
          <List
            size="small"
            dataSource={low.data?.items ?? []}
            renderItem={(s) => (
              <List.Item>
                SKU {s.skuId}: {s.available} left (threshold {s.lowStockThreshold})
              </List.Item>
            )}
          />
        </Card>
      </Col>
    </Row>
  );
}

export default function Dashboard() {
  const { user } = useSession();
  const admin = isAdmin(user?.roles);
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
        Dashboard
      </Typography.Title>
      <WorkQueue />
      {admin ? (
        <>
          <OverviewCards title="Today" range={{}} />
          <OverviewCards title="Last 30 days" range={{ from: thirtyDaysAgo() }} />
          <Row gutter={[16, 16]}>
            <Col xs={24} xl={14}>
              <SalesChart range={{ from: thirtyDaysAgo() }} />
            </Col>
            <Col xs={24} xl={10}>
              <TopProducts range={{ from: thirtyDaysAgo() }} />
            </Col>
          </Row>
        </>
      ) : (
        <Typography.Paragraph type="secondary">Sales figures are shown to admins.</Typography.Paragraph>
      )}
    </Flex>
  );
}

function thirtyDaysAgo() {
  const d = new Date(Date.now() - 29 * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
