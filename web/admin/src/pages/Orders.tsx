/** Orders (filters, detail with the timeline, ship, cancel unpaid) and refund requests (approve / reject with a note). */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, DatePicker, Descriptions, Drawer, Flex, Form, Input, InputNumber, Modal, Select, Space, Table, Tabs, Tag, Timeline, Typography } from "antd";
import type { Dayjs } from "dayjs";
import { useLocation, useNavigate } from "react-router";
import type { Schemas } from "../../../shared";
import { describe, mall, money, when, ymd, TAG } from "../api";

type Order = Schemas["Order"];
type OrderStatus = Order["status"];
const STATUSES: OrderStatus[] = ["PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "REFUNDING", "REFUNDED"];
const COLORS: Record<string, string> = { PENDING_PAYMENT: "gold", PAID: "blue", SHIPPED: "cyan", COMPLETED: "green", CANCELLED: "default", REFUNDING: "orange", REFUNDED: "purple" };
export const StatusTag = ({ s }: { s: string }) => <Tag color={TAG[COLORS[s] ?? "default"]}>{s}</Tag>;

function OrderDetail({ orderNo, onClose }: { orderNo: string; onClose: () => void }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["order", orderNo], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/orders/{orderNo}", { params: { path: { orderNo } } })) });
  const done = (what: string) => {
    message.success(what);
    void qc.invalidateQueries({ queryKey: ["order", orderNo] });
    void qc.invalidateQueries({ queryKey: ["orders"] });
  };
  const ship = useMutation({
    mutationFn: (v: { carrier: string; trackingNo: string }) => mall.call(mall.api.POST("/api/v1/admin/orders/{orderNo}/ship", { params: { path: { orderNo } }, body: v })),
    onSuccess: () => done("Order shipped"),
    onError: (err) => message.error(describe(err)),
  });
  const cancel = useMutation({
    mutationFn: (reason: string) => mall.call(mall.api.POST("/api/v1/admin/orders/{orderNo}/cancel", { params: { path: { orderNo } }, body: { reason } })),
    onSuccess: () => done("Order cancelled"),
    onError: (err) => message.error(describe(err)),
  });
  const o = q.data;
  return (
    <Drawer open title={`Order ${orderNo}`} width={720} onClose={onClose}>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      {o && (
        <Flex vertical gap={16}>
          <Descriptions size="small" bordered column={2} items={[
            { key: "s", label: "Status", children: <span data-testid="order-status"><StatusTag s={o.status} /></span> },
            { key: "u", label: "Buyer", children: `user ${o.userId}` },
            { key: "p", label: "Payable", children: money(o.payable, o.currency) },
            { key: "d", label: "Discount / points", children: `${money(o.discount, o.currency)} / ${money(o.pointsDeduction, o.currency)}` },
            { key: "c", label: "Created", children: when(o.createdAt) },
            { key: "pa", label: "Paid", children: when(o.paidAt) },
            { key: "a", label: "Address", span: 2, children: `${o.address.name} ${o.address.mobile}, ${o.address.province} ${o.address.city} ${o.address.district} ${o.address.detail}` },
            ...(o.shipment ? [{ key: "sh", label: "Shipment", span: 2, children: `${o.shipment.carrier} ${o.shipment.trackingNo} (${when(o.shipment.shippedAt)})` }] : []),
          ]} />
          <Table size="small" rowKey="skuId" pagination={false} dataSource={o.items} columns={[
            { title: "Item", dataIndex: "title" },
            { title: "SKU", dataIndex: "skuCode" },
            { title: "Qty", dataIndex: "quantity", align: "right" },
            { title: "Unit", dataIndex: "unitPrice", align: "right", render: (v: number) => money(v, o.currency) },
            { title: "Paid", dataIndex: "payable", align: "right", render: (v: number) => money(v, o.currency) },
          ]} />
          {o.status === "PAID" && (
            <Form layout="inline" onFinish={(v: { carrier: string; trackingNo: string }) => ship.mutate(v)}>
              <Form.Item name="carrier" label="Carrier" rules={[{ required: true, message: "Carrier" }]}>
                <Input placeholder="SF Express" />
              </Form.Item>
              <Form.Item name="trackingNo" label="Tracking number" rules={[{ required: true, message: "Tracking number" }]}>
                <Input />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={ship.isPending}>Ship</Button>
            </Form>
          )}
          {o.status === "PENDING_PAYMENT" && (
            <Form layout="inline" onFinish={(v: { reason: string }) => cancel.mutate(v.reason)}>
              <Form.Item name="reason" label="Cancel reason" rules={[{ required: true, message: "Say why" }]}>
                <Input placeholder="out of stock, buyer asked…" />
              </Form.Item>
              <Button danger htmlType="submit" loading={cancel.isPending}>Cancel order</Button>
            </Form>
          )}
          <Typography.Title level={2} style={{ fontSize: 16 }}>Timeline</Typography.Title>
          <Timeline items={o.timeline.map((e) => ({ children: <>{when(e.at)} · <StatusTag s={e.status} /> {e.note} <Typography.Text type="secondary">({e.actor})</Typography.Text></> }))} />
        </Flex>
      )}
    </Drawer>
  );
}

function OrderList() {
  const location = useLocation();
  const [filters, setFilters] = useState<{ status?: OrderStatus; userId?: number; orderNo?: string; from?: string; to?: string }>(() => {
    const s = new URLSearchParams(location.search).get("status");
    return s ? { status: s as OrderStatus } : {};
  });
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ["orders", filters, page],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/orders", { params: { query: { ...filters, page, pageSize: 20 } } })),
  });
  const set = (patch: Partial<typeof filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setPage(1);
  };
  return (
    <>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Select aria-label="Status" allowClear placeholder="Any status" style={{ width: 180 }} value={filters.status} onChange={(v) => set({ status: v })} options={STATUSES.map((s) => ({ value: s, label: s }))} />
        <InputNumber aria-label="Buyer user id" placeholder="User id" min={1} onChange={(v) => set({ userId: v ?? undefined })} />
        <Input.Search aria-label="Order number" placeholder="Order number" allowClear style={{ width: 260 }} onSearch={(v) => set({ orderNo: v || undefined })} />
        <DatePicker.RangePicker aria-label="Created between" onChange={(v: [Dayjs | null, Dayjs | null] | null) => set({ from: v?.[0] ? ymd(v[0].toDate()) : undefined, to: v?.[1] ? ymd(v[1].toDate()) : undefined })} />
      </Flex>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table
        rowKey="orderNo"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: page, pageSize: 20, total: q.data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: "Order", dataIndex: "orderNo", render: (no: string) => <Button type="link" onClick={() => setOpen(no)}>{no}</Button> },
          { title: "Status", dataIndex: "status", render: (s: string) => <StatusTag s={s} /> },
          { title: "Buyer", dataIndex: "userId" },
          { title: "Items", render: (_: unknown, o: Order) => o.items.reduce((n, i) => n + i.quantity, 0) },
          { title: "Payable", render: (_: unknown, o: Order) => money(o.payable, o.currency), align: "right" },
          { title: "Created", dataIndex: "createdAt", render: when },
        ]}
      />
      {open && <OrderDetail orderNo={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function Refunds() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [status, setStatus] = useState<"REQUESTED" | "APPROVED" | "REJECTED" | "COMPLETED" | undefined>("REQUESTED");
  const [page, setPage] = useState(1);
  const [deciding, setDeciding] = useState<{ id: number; verdict: "approve" | "reject" } | null>(null);
  const [note, setNote] = useState("");
  const q = useQuery({ queryKey: ["refunds", status, page], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/refunds", { params: { query: { status, page, pageSize: 20 } } })) });
  const decide = useMutation({
    mutationFn: ({ id, verdict }: { id: number; verdict: "approve" | "reject" }) =>
      verdict === "approve"
        ? mall.call(mall.api.POST("/api/v1/admin/refunds/{id}/approve", { params: { path: { id } }, body: { note: note || undefined } }))
        : mall.call(mall.api.POST("/api/v1/admin/refunds/{id}/reject", { params: { path: { id } }, body: { note: note || undefined } })),
    onSuccess: (_r, v) => {
      message.success(v.verdict === "approve" ? "Refund approved: the money goes back through the payment channel" : "Refund rejected");
      setDeciding(null);
      setNote("");
      void qc.invalidateQueries({ queryKey: ["refunds"] });
    },
    onError: (err) => message.error(describe(err)),
  });
  return (
    <>
      <Select aria-label="Refund status" allowClear placeholder="Any status" style={{ width: 180, marginBottom: 16 }} value={status} onChange={(v) => { setStatus(v); setPage(1); }} options={["REQUESTED", "APPROVED", "REJECTED", "COMPLETED"].map((s) => ({ value: s, label: s }))} />
      <Table
        rowKey="id"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: page, pageSize: 20, total: q.data?.total ?? 0, onChange: setPage }}
        columns={[
          { title: "#", dataIndex: "id" },
          { title: "Order", dataIndex: "orderNo" },
          { title: "Amount", render: (_: unknown, r) => money(r.amount, r.currency), align: "right" },
          { title: "Reason", dataIndex: "reason" },
          { title: "Status", dataIndex: "status", render: (s: string) => <Tag>{s}</Tag> },
          { title: "Note", dataIndex: "note" },
          { title: "Requested", dataIndex: "createdAt", render: when },
          {
            title: "",
            render: (_: unknown, r) =>
              r.status === "REQUESTED" || r.status === "APPROVED" ? (
                <Space>
                  <Button size="small" type="primary" onClick={() => setDeciding({ id: r.id, verdict: "approve" })}>Approve</Button>
                  {r.status === "REQUESTED" && <Button size="small" danger onClick={() => setDeciding({ id: r.id, verdict: "reject" })}>Reject</Button>}
                </Space>
              ) : null,
          },
        ]}
      />
      <Modal
        open={!!deciding}
        title={deciding?.verdict === "approve" ? "Approve the refund" : "Reject the refund"}
        okText={deciding?.verdict === "approve" ? "Approve" : "Reject"}
        okButtonProps={{ danger: deciding?.verdict === "reject", loading: decide.isPending }}
        onOk={() => deciding && decide.mutate(deciding)}
        onCancel={() => setDeciding(null)}
      >
        <Input.TextArea aria-label="Note" placeholder="Note (optional; the buyer's timeline shows it)" value={note} onChange={(e) => setNote(e.target.value)} maxLength={255} />
      </Modal>
    </>
  );
}

export default function Orders() {
  const location = useLocation();
  const navigate = useNavigate();
  const tab = location.pathname.endsWith("/refunds") ? "refunds" : "orders";
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>Orders &amp; refunds</Typography.Title>
      <Tabs activeKey={tab} onChange={(k) => navigate(k === "refunds" ? "/orders/refunds" : "/orders")} items={[{ key: "orders", label: "Orders", children: <OrderList /> }, { key: "refunds", label: "Refunds", children: <Refunds /> }]} />
    </>
  );
}
