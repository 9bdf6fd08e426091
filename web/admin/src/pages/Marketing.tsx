/**
 * Marketing: coupon templates (claimed counts; the API has no used count yet), promotions, and
 * flash sales with live figures (API.md "Seckill" — the seckill service is built in parallel:
 * the console calls its routes through `mall.raw` and says so when they are not there yet).
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, DatePicker, Drawer, Form, Input, InputNumber, Popconfirm, Progress, Select, Space, Switch, Table, Tabs, Tag, Typography } from "antd";
import type { Dayjs } from "dayjs";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, isApiError, mall, money, when } from "../api";

type Template = Schemas["CouponTemplate"];

const yuan = (v: number) => Math.round(v * 100);
const iso = (d: Dayjs) => d.toDate().toISOString();

function Coupons() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const q = useQuery({ queryKey: ["coupon-templates"], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/coupon-templates")) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["coupon-templates"] });
  const create = useMutation({
    mutationFn: (v: { name: string; type: "FIXED" | "PERCENT"; value: number; threshold: number; totalQuantity: number; perUserLimit: number; valid: [Dayjs, Dayjs] }) =>
      mall.call(
        mall.api.POST("/api/v1/admin/coupon-templates", {
          headers: { "Idempotency-Key": idempotencyKey() },
          body: {
            name: v.name,
            type: v.type,
            value: v.type === "FIXED" ? yuan(v.value) : Math.round(v.value * 100),
            threshold: yuan(v.threshold ?? 0),
            totalQuantity: v.totalQuantity,
            perUserLimit: v.perUserLimit,
            validFrom: iso(v.valid[0]),
            validTo: iso(v.valid[1]),
          },
        }),
      ),
    onSuccess: () => { message.success("Coupon template created"); setOpen(false); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: number; enabled: boolean }) => mall.call(mall.api.PATCH("/api/v1/admin/coupon-templates/{id}", { params: { path: { id } }, body: { enabled } })),
    onSuccess: refresh,
    onError: (err) => message.error(describe(err)),
  });
  const items = Array.isArray(q.data) ? q.data : ((q.data as { items?: unknown[] } | undefined)?.items ?? []);
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} style={{ marginBottom: 16 }}>New coupon template</Button>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table<Template>
        rowKey="id"
        loading={q.isLoading}
        dataSource={items as Template[]}
        columns={[
          { title: "Name", dataIndex: "name" },
          { title: "Terms", render: (_: unknown, t: Template) => (t.type === "FIXED" ? `${money(t.value)} off` : `${(t.value / 100).toFixed(1)} % off`) + (t.threshold ? ` over ${money(t.threshold)}` : "") },
          { title: "Claimed", render: (_: unknown, t: Template) => `${t.claimed} / ${t.totalQuantity}` },
          { title: "Remaining", dataIndex: "remaining", align: "right" },
          { title: "Valid", render: (_: unknown, t: Template) => `${when(t.validFrom)} – ${when(t.validTo)}` },
          { title: "Enabled", render: (_: unknown, t: Template) => <Switch aria-label="Enabled" checked={t.enabled} onChange={(enabled) => toggle.mutate({ id: t.id, enabled })} /> },
        ]}
      />
      <Drawer open={open} title="New coupon template" width={520} onClose={() => setOpen(false)} destroyOnHidden>
        <Form layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ type: "FIXED", threshold: 0, perUserLimit: 1, totalQuantity: 100 }}>
          <Form.Item name="name" label="Name" rules={[{ required: true, message: "A name" }]}><Input /></Form.Item>
          <Form.Item name="type" label="Type"><Select options={[{ value: "FIXED", label: "Fixed amount off (¥)" }, { value: "PERCENT", label: "Percent off (%)" }]} /></Form.Item>
          <Form.Item name="value" label="Value (¥ or %)" rules={[{ required: true, message: "How much" }]}><InputNumber min={0.01} step={0.01} /></Form.Item>
          <Form.Item name="threshold" label="Minimum spend (¥)"><InputNumber min={0} step={0.01} /></Form.Item>
          <Form.Item name="totalQuantity" label="Total quantity" rules={[{ required: true }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="perUserLimit" label="Per user" rules={[{ required: true }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="valid" label="Valid" rules={[{ required: true, message: "When" }]}><DatePicker.RangePicker showTime /></Form.Item>
          <Button type="primary" htmlType="submit" loading={create.isPending}>Create</Button>
        </Form>
      </Drawer>
    </>
  );
}

function Promotions() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const q = useQuery({ queryKey: ["promotions"], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/promotions")) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["promotions"] });
  const create = useMutation({
    mutationFn: (v: { name: string; threshold: number; off: number; when: [Dayjs, Dayjs] }) =>
      mall.call(
        mall.api.POST("/api/v1/admin/promotions", {
          headers: { "Idempotency-Key": idempotencyKey() },
          body: { name: v.name, type: "FULL_REDUCTION", rules: [{ threshold: yuan(v.threshold), off: yuan(v.off) }], startAt: iso(v.when[0]), endAt: iso(v.when[1]), enabled: true } as never,
        }),
      ),
    onSuccess: () => { message.success("Promotion created"); setOpen(false); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: number; enabled: boolean }) => mall.call(mall.api.PATCH("/api/v1/admin/promotions/{id}", { params: { path: { id } }, body: { enabled } })),
    onSuccess: refresh,
    onError: (err) => message.error(describe(err)),
  });
  const items = Array.isArray(q.data) ? q.data : ((q.data as { items?: unknown[] } | undefined)?.items ?? []);
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} style={{ marginBottom: 16 }}>New full-reduction promotion</Button>
      <Table
        rowKey="id"
        loading={q.isLoading}
        dataSource={items as never[]}
        columns={[
          { title: "Name", dataIndex: "name" },
          { title: "Type", dataIndex: "type", render: (t: string) => <Tag>{t}</Tag> },
          { title: "Rules", dataIndex: "rules", render: (r: unknown) => <code>{JSON.stringify(r)}</code> },
          { title: "From", dataIndex: "startAt", render: when },
          { title: "To", dataIndex: "endAt", render: when },
          { title: "Enabled", render: (_: unknown, p: { id: number; enabled: boolean }) => <Switch aria-label="Enabled" checked={p.enabled} onChange={(enabled) => toggle.mutate({ id: p.id, enabled })} /> },
        ]}
      />
      <Drawer open={open} title="New promotion (满减)" width={480} onClose={() => setOpen(false)} destroyOnHidden>
        <Form layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="name" label="Name" rules={[{ required: true, message: "A name" }]}><Input /></Form.Item>
          <Form.Item name="threshold" label="When the items reach (¥)" rules={[{ required: true }]}><InputNumber min={0.01} step={0.01} /></Form.Item>
          <Form.Item name="off" label="Take off (¥)" rules={[{ required: true }]}><InputNumber min={0.01} step={0.01} /></Form.Item>
          <Form.Item name="when" label="Runs" rules={[{ required: true, message: "When" }]}><DatePicker.RangePicker showTime /></Form.Item>
          <Button type="primary" htmlType="submit" loading={create.isPending}>Create</Button>
        </Form>
      </Drawer>
    </>
  );
}

/** API.md "Seckill" (admin): the shapes the console relies on. */
export interface SeckillEvent {
  id: number;
  skuId: number;
  title: string;
  price: number;
  quantity: number;
  perUserLimit: number;
  startAt: string;
  endAt: string;
  status?: string;
  figures?: { accepted: number; ordered: number; paid: number; expired: number; remaining: number };
  accepted?: number;
  ordered?: number;
  paid?: number;
  remaining?: number;
}
const figuresOf = (e: SeckillEvent) => e.figures ?? { accepted: e.accepted ?? 0, ordered: e.ordered ?? 0, paid: e.paid ?? 0, expired: 0, remaining: e.remaining ?? 0 };

function FlashSales() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const q = useQuery({
    queryKey: ["seckill-events"],
    queryFn: () => mall.raw<SeckillEvent[] | { items: SeckillEvent[] }>("GET", "/api/v1/admin/seckill/events"),
    refetchInterval: 3_000, // live figures
    retry: false,
  });
  const create = useMutation({
    mutationFn: (v: { skuId: number; title: string; price: number; quantity: number; perUserLimit: number; when: [Dayjs, Dayjs] }) =>
      mall.raw<SeckillEvent>("POST", "/api/v1/admin/seckill/events", {
        headers: { "Idempotency-Key": idempotencyKey() },
        body: { skuId: v.skuId, title: v.title, price: yuan(v.price), quantity: v.quantity, perUserLimit: v.perUserLimit, startAt: iso(v.when[0]), endAt: iso(v.when[1]) },
      }),
    onSuccess: () => { message.success("Flash sale created: its units are set aside from stock"); setOpen(false); void qc.invalidateQueries({ queryKey: ["seckill-events"] }); },
    onError: (err) => message.error(describe(err)),
  });
  const cancel = useMutation({
    mutationFn: (id: number) => mall.raw("POST", `/api/v1/admin/seckill/events/${id}/cancel`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["seckill-events"] }),
    onError: (err) => message.error(describe(err)),
  });
  const missing = isApiError(q.error) && (q.error.status === 404 || q.error.status === 503);
  const items = Array.isArray(q.data) ? q.data : (q.data?.items ?? []);
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} style={{ marginBottom: 16 }} disabled={missing}>New flash sale</Button>
      {missing && <Alert type="info" showIcon message="Flash sales are not available on this shop yet (the seckill service is not running)." style={{ marginBottom: 16 }} />}
      {q.error && !missing && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table
        rowKey="id"
        loading={q.isLoading}
        dataSource={items}
        columns={[
          { title: "Title", dataIndex: "title" },
          { title: "SKU", dataIndex: "skuId" },
          { title: "Price", dataIndex: "price", render: (v: number) => money(v) },
          { title: "Window", render: (_: unknown, e: SeckillEvent) => `${when(e.startAt)} – ${when(e.endAt)}` },
          { title: "Accepted", render: (_: unknown, e: SeckillEvent) => figuresOf(e).accepted, align: "right" },
          { title: "Ordered", render: (_: unknown, e: SeckillEvent) => figuresOf(e).ordered, align: "right" },
          { title: "Paid", render: (_: unknown, e: SeckillEvent) => figuresOf(e).paid, align: "right" },
          { title: "Remaining", render: (_: unknown, e: SeckillEvent) => <Space><span data-testid={`remaining-${e.id}`}>{figuresOf(e).remaining}</span><Progress size="small" percent={Math.round(((e.quantity - figuresOf(e).remaining) / Math.max(1, e.quantity)) * 100)} style={{ width: 80 }} /></Space> },
          {
            title: "",
            render: (_: unknown, e: SeckillEvent) =>
              new Date(e.startAt) > new Date() ? (
                <Popconfirm title="Cancel this flash sale? Its units go back to stock." onConfirm={() => cancel.mutate(e.id)}>
                  <Button size="small" danger>Cancel</Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      <Drawer open={open} title="New flash sale" width={480} onClose={() => setOpen(false)} destroyOnHidden>
        <Form layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ perUserLimit: 1 }}>
          <Form.Item name="title" label="Title" rules={[{ required: true, message: "A title" }]}><Input /></Form.Item>
          <Form.Item name="skuId" label="SKU id" rules={[{ required: true, message: "Which SKU" }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="price" label="Flash price (¥)" rules={[{ required: true }]}><InputNumber min={0.01} step={0.01} /></Form.Item>
          <Form.Item name="quantity" label="Units" rules={[{ required: true }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="perUserLimit" label="Per buyer" rules={[{ required: true }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="when" label="Window" rules={[{ required: true, message: "When" }]}><DatePicker.RangePicker showTime /></Form.Item>
          <Button type="primary" htmlType="submit" loading={create.isPending}>Create</Button>
        </Form>
      </Drawer>
    </>
  );
}

export default function Marketing() {
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>Marketing</Typography.Title>
      <Tabs items={[{ key: "coupons", label: "Coupons", children: <Coupons /> }, { key: "promotions", label: "Promotions", children: <Promotions /> }, { key: "flash", label: "Flash sales", children: <FlashSales /> }]} />
    </>
  );
}
