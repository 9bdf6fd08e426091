/**
 * Marketing: coupon templates (claimed counts; the API has no used count yet), promotions, and
 * flash sales with live figures (API.md "Seckill": accepted, ordered, paid, expired, remaining,
 * refreshed every 3 s; an upcoming sale can be cancelled, its units go back to stock).
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, DatePicker, Drawer, Form, Input, InputNumber, Popconfirm, Progress, Select, Space, Switch, Table, Tabs, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, mall, money, TAG, when } from "../api";

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

type FlashSale = Schemas["AdminSeckillEvent"];
type Phase = FlashSale["status"];
const PHASE_COLOUR: Record<Phase, string | undefined> = { upcoming: TAG.blue, active: TAG.green, ended: undefined, cancelled: TAG.red };
const FIGURES = ["accepted", "ordered", "paid", "expired"] as const;
/** The sale asks no less than the SKU's price when it was published: worth a second look. */
const priceNotBelow = (e: FlashSale) => e.price >= e.originalPrice;

/** Windows an operator picks most: starting now, or tomorrow morning. */
const WINDOW_PRESETS = [
  { label: "Now, for 1 hour", value: () => [dayjs(), dayjs().add(1, "hour")] as [Dayjs, Dayjs] },
  { label: "Tomorrow 10:00–12:00", value: () => [dayjs().add(1, "day").hour(10).startOf("hour"), dayjs().add(1, "day").hour(12).startOf("hour")] as [Dayjs, Dayjs] },
];

interface SaleForm {
  skuId: number;
  title: string;
  price: number;
  quantity: number;
  perUserLimit: number;
  when: [Dayjs, Dayjs];
}

/** What the chosen SKU has in stock (a sale sets its units aside at once: 409 when short). */
function SkuStock({ skuId }: { skuId: number | null | undefined }) {
  const q = useQuery({
    queryKey: ["stock", skuId],
    enabled: !!skuId,
    retry: false,
    queryFn: () => mall.call(mall.api.GET("/api/v1/inventory/{skuId}", { params: { path: { skuId: skuId! } } })),
  });
  if (!skuId) return null;
  if (q.error) return <Typography.Text type="danger">{describe(q.error)}</Typography.Text>;
  return q.data ? <span data-testid="sku-available">{q.data.available} units available</span> : null;
}

function FlashSales() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<Phase | undefined>();
  const [page, setPage] = useState(1);
  const [warned, setWarned] = useState<{ title: string; warnings: string[] } | null>(null);
  const [form] = Form.useForm<SaleForm>();
  const skuId = Form.useWatch("skuId", form);
  const q = useQuery({
    queryKey: ["seckill-events", status, page],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/seckill/events", { params: { query: { status, page, pageSize: 20 } } })),
    refetchInterval: 3_000, // live figures
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["seckill-events"] });
  const create = useMutation({
    mutationFn: (v: SaleForm) =>
      mall.call(
        mall.api.POST("/api/v1/admin/seckill/events", {
          headers: { "Idempotency-Key": idempotencyKey() },
          body: { skuId: v.skuId, title: v.title, price: yuan(v.price), quantity: v.quantity, perUserLimit: v.perUserLimit, startAt: iso(v.when[0]), endAt: iso(v.when[1]) },
        }),
      ),
    onSuccess: (e) => {
      message.success(`Flash sale ${e.id} created: ${e.quantity} units set aside from stock`);
      setWarned(e.warnings.length ? { title: e.title, warnings: e.warnings } : null);
      setOpen(false);
      refresh();
    },
    onError: (err) => message.error(describe(err)),
  });
  const cancel = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.POST("/api/v1/admin/seckill/events/{id}/cancel", { params: { path: { id } } })),
    onSuccess: (e) => { message.success(`Flash sale ${e.id} cancelled: its units went back to stock`); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  // the four counts share one column: the table fits the content area without scrolling
  const figures = {
    title: "Accepted / ordered / paid / expired",
    render: (_: unknown, e: FlashSale) => (
      <Space split="/" size={6}>
        {FIGURES.map((k) => <span key={k} data-testid={k} aria-label={k}>{e.figures[k]}</span>)}
      </Space>
    ),
  };
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Button type="primary" onClick={() => { form.resetFields(); setOpen(true); }}>New flash sale</Button>
        <Select<Phase>
          aria-label="Status"
          allowClear
          placeholder="Any status"
          style={{ width: 160 }}
          value={status}
          onChange={(v) => { setStatus(v); setPage(1); }}
          options={(["upcoming", "active", "ended", "cancelled"] as const).map((p) => ({ value: p, label: p }))}
        />
      </Space>
      {warned && (
        <Alert
          type="warning"
          showIcon
          closable
          onClose={() => setWarned(null)}
          style={{ marginBottom: 16 }}
          message={`“${warned.title}” was created, but look again:`}
          description={<ul style={{ margin: 0 }}>{warned.warnings.map((w) => <li key={w}>{w}</li>)}</ul>}
        />
      )}
      {q.error && <Alert type="error" showIcon message={describe(q.error)} style={{ marginBottom: 16 }} />}
      <Table<FlashSale>
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: page, pageSize: 20, total: q.data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: "Title", render: (_: unknown, e) => <Space direction="vertical" size={0}><span>{e.title}</span><Typography.Text type="secondary">#{e.id} · SKU {e.skuId}</Typography.Text></Space> },
          {
            title: "Price",
            render: (_: unknown, e) => (
              <Space direction="vertical" size={0}>
                <span>{money(e.price, e.currency)}</span>
                <Typography.Text type="secondary" delete={!priceNotBelow(e)}>{money(e.originalPrice, e.currency)}</Typography.Text>
                {priceNotBelow(e) && <Tag color={TAG.orange} data-testid="price-warning">not below the SKU's price</Tag>}
              </Space>
            ),
          },
          { title: "Units", render: (_: unknown, e) => <Space direction="vertical" size={0}><span>{e.quantity}</span><Typography.Text type="secondary">≤ {e.perUserLimit} each</Typography.Text></Space> },
          { title: "Window", render: (_: unknown, e) => <Space direction="vertical" size={0}><span>{when(e.startAt)}</span><span>{when(e.endAt)}</span></Space> },
          { title: "Status", dataIndex: "status", render: (p: Phase) => <Tag color={PHASE_COLOUR[p]} data-testid="status">{p}</Tag> },
          figures,
          {
            title: "Remaining",
            render: (_: unknown, e) => (
              <Space>
                <span data-testid="remaining">{e.figures.remaining}</span>
                <Progress size="small" aria-label={`${e.title}: share taken`} percent={Math.round((e.figures.accepted / Math.max(1, e.quantity)) * 100)} style={{ width: 64 }} />
              </Space>
            ),
          },
          {
            title: "Actions",
            render: (_: unknown, e) =>
              e.status === "upcoming" ? (
                <Popconfirm title="Cancel this flash sale? Its units go back to stock." okText="Cancel the sale" cancelText="Keep it" onConfirm={() => cancel.mutate(e.id)}>
                  <Button size="small" danger loading={cancel.isPending && cancel.variables === e.id}>Cancel</Button>
                </Popconfirm>
              ) : e.returnedUnits !== null ? (
                <Typography.Text type="secondary">{e.returnedUnits} back to stock</Typography.Text>
              ) : null,
          },
        ]}
      />
      <Drawer open={open} title="New flash sale" width={480} onClose={() => setOpen(false)} forceRender>
        <Form<SaleForm> form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ perUserLimit: 1 }}>
          <Form.Item name="title" label="Title" rules={[{ required: true, message: "A title" }]}><Input maxLength={128} /></Form.Item>
          <Form.Item name="skuId" label="SKU id" rules={[{ required: true, message: "Which SKU" }]} extra={<SkuStock skuId={skuId} />}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="price" label="Flash price (¥)" rules={[{ required: true, message: "A price" }]}><InputNumber min={0} step={0.01} precision={2} /></Form.Item>
          <Form.Item name="quantity" label="Units" rules={[{ required: true, message: "How many units" }]}><InputNumber min={1} precision={0} /></Form.Item>
          <Form.Item name="perUserLimit" label="Per buyer" rules={[{ required: true, message: "How many per buyer" }]}><InputNumber min={1} max={1000} precision={0} /></Form.Item>
          <Form.Item name="when" label="Window" rules={[{ required: true, message: "When" }]}><DatePicker.RangePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" presets={WINDOW_PRESETS} /></Form.Item>
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
