/**
 * Messages (API.md "Messages"): templates per code and locale with a rendered preview, batch sends
 * with progress until the batch is COMPLETED, and the delivery log (filter by channel, status,
 * user or batch; open one delivery to read what was sent).
 *
 * A template's `variables` are what it uses (or, built-in, may use); a batch fills `nickname` and
 * `username` per recipient, the rest comes from the form. The server checks both ways
 * (TEMPLATE_VARS_MISSING / TEMPLATE_VARS_UNKNOWN) and the console shows what it says.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Drawer, Flex, Form, Input, Progress, Radio, Select, Space, Switch, Table, Tabs, Tag, Typography } from "antd";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, mall, TAG, when } from "../api";

type Template = Schemas["MessageTemplate"];
type Preview = Schemas["MessagePreview"];
type Batch = Schemas["MessageBatch"];
type Delivery = Schemas["MessageDelivery"];
type Channel = Template["channel"];
type Locale = Template["locale"];
type DeliveryStatus = Delivery["status"];

const CHANNELS: Channel[] = ["inbox", "email", "sms"];
const LOCALES: Locale[] = ["zh-CN", "en"];
const STATUSES: DeliveryStatus[] = ["PENDING", "SENDING", "RETRYING", "SENT", "LOGGED", "FAILED", "SUPPRESSED", "SKIPPED"];
/** filled in for each recipient by the messages service (services/messages/batches.ts PER_USER_VARS) */
const PER_USER_VARS = ["nickname", "username"];
const STATUS_COLOUR: Partial<Record<DeliveryStatus | Batch["status"], string>> = {
  SENT: TAG.green,
  LOGGED: TAG.cyan,
  COMPLETED: TAG.green,
  RUNNING: TAG.blue,
  PENDING: TAG.blue,
  SENDING: TAG.blue,
  RETRYING: TAG.gold,
  FAILED: TAG.red,
  SUPPRESSED: TAG.purple,
  SKIPPED: TAG.orange,
};
const StatusTag = ({ s }: { s: string }) => <Tag color={STATUS_COLOUR[s as DeliveryStatus]}>{s}</Tag>;

/** Every template variant (the list is paged at 100 at most). */
async function allTemplates(): Promise<Template[]> {
  const out: Template[] = [];
  for (let page = 1; page <= 50; page++) {
    const p = await mall.call(mall.api.GET("/api/v1/admin/message-templates", { params: { query: { page, pageSize: 100 } } }));
    out.push(...p.items);
    if (out.length >= p.total || !p.items.length) break;
  }
  return out;
}

/** Non-empty values only: an empty field is "not given", so the server can say it is missing. */
const given = (vars: Record<string, string | undefined> | undefined) =>
  Object.fromEntries(Object.entries(vars ?? {}).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));

/** One input per variable, under `vars.<name>` of the surrounding form. */
function VarFields({ names }: { names: string[] }) {
  if (!names.length) return <Typography.Text type="secondary">This template uses no variables.</Typography.Text>;
  return (
    <>
      {names.map((n) => (
        <Form.Item key={n} name={["vars", n]} label={`{{${n}}}`} style={{ marginBottom: 8 }}>
          <Input aria-label={`Variable ${n}`} />
        </Form.Item>
      ))}
    </>
  );
}

function PreviewCard({ t }: { t: Template }) {
  const { message } = App.useApp();
  const [preview, setPreview] = useState<Preview | null>(null);
  const render = useMutation({
    mutationFn: (v: { vars?: Record<string, string> }) =>
      mall.call(mall.api.POST("/api/v1/admin/message-templates/{code}/preview", { params: { path: { code: t.code } }, body: { locale: t.locale, vars: given(v.vars) } })),
    onSuccess: setPreview,
    onError: (err) => message.error(describe(err)),
  });
  return (
    <Card title={`Preview (${t.locale})`} size="small" style={{ marginTop: 24 }}>
      <Form layout="vertical" onFinish={(v) => render.mutate(v)}>
        <VarFields names={t.variables} />
        <Button htmlType="submit" loading={render.isPending}>Render preview</Button>
      </Form>
      {preview && (
        <div data-testid="preview" style={{ marginTop: 16 }}>
          <Typography.Text strong>{preview.subject}</Typography.Text>
          {preview.channel === "email" ? (
            // the HTML email in a sandbox: no scripts, no same-origin access
            <iframe title="Email preview" sandbox="" srcDoc={preview.body} style={{ width: "100%", height: 240, border: "1px solid #d9d9d9", marginTop: 8 }} />
          ) : (
            <pre style={{ whiteSpace: "pre-wrap", marginTop: 8 }}>{preview.body}</pre>
          )}
        </div>
      )}
    </Card>
  );
}

interface TemplateForm {
  code: string;
  channel: Channel;
  locale: Locale;
  category: Template["category"];
  subject: string;
  body: string;
  enabled: boolean;
}

function Templates() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Template | "new" | null>(null);
  const [filter, setFilter] = useState<{ channel?: Channel; q?: string; page: number }>({ page: 1 });
  const q = useQuery({
    queryKey: ["message-templates", filter],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/message-templates", { params: { query: { ...filter, pageSize: 20 } } })),
  });
  const saved = (t: Template) => {
    message.success(`Template ${t.code} (${t.locale}) saved`);
    setEditing(t);
    void qc.invalidateQueries({ queryKey: ["message-templates"] });
  };
  const create = useMutation({
    mutationFn: (v: TemplateForm) => mall.call(mall.api.POST("/api/v1/admin/message-templates", { body: v, headers: { "Idempotency-Key": idempotencyKey() } })),
    onSuccess: saved,
    onError: (err) => message.error(describe(err)),
  });
  const update = useMutation({
    mutationFn: ({ code, ...v }: TemplateForm) =>
      mall.call(mall.api.PATCH("/api/v1/admin/message-templates/{code}", { params: { path: { code } }, body: { locale: v.locale, category: v.category, subject: v.subject, body: v.body, enabled: v.enabled } })),
    onSuccess: saved,
    onError: (err) => message.error(describe(err)),
  });
  const current = editing && editing !== "new" ? editing : null;
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Button type="primary" onClick={() => setEditing("new")}>New template</Button>
        <Select<Channel> aria-label="Template channel" allowClear placeholder="Any channel" style={{ width: 140 }} onChange={(channel) => setFilter((f) => ({ ...f, channel, page: 1 }))} options={CHANNELS.map((c) => ({ value: c, label: c }))} />
        <Input.Search aria-label="Search template codes" placeholder="Code contains…" allowClear style={{ width: 220 }} onSearch={(v) => setFilter((f) => ({ ...f, q: v || undefined, page: 1 }))} />
      </Space>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} style={{ marginBottom: 16 }} />}
      <Table<Template>
        rowKey={(t) => `${t.code}/${t.locale}`}
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: filter.page, pageSize: 20, total: q.data?.total ?? 0, showSizeChanger: false, onChange: (page) => setFilter((f) => ({ ...f, page })) }}
        columns={[
          { title: "Code", dataIndex: "code" },
          { title: "Locale", dataIndex: "locale" },
          { title: "Channel", dataIndex: "channel", render: (c: string) => <Tag>{c}</Tag> },
          { title: "Category", dataIndex: "category" },
          { title: "Subject", dataIndex: "subject", ellipsis: true },
          {
            title: "State",
            render: (_: unknown, t) => (
              <Space size={4} wrap>
                <Tag color={t.enabled ? TAG.green : undefined}>{t.enabled ? "enabled" : "disabled"}</Tag>
                {t.builtin && <Tag>{t.overridden ? "built-in, changed" : "built-in"}</Tag>}
              </Space>
            ),
          },
          { title: "Updated", dataIndex: "updatedAt", render: when },
          { title: "Actions", render: (_: unknown, t) => <Button size="small" onClick={() => setEditing(t)}>Edit / preview</Button> },
        ]}
      />
      <Drawer open={!!editing} title={current ? `Template ${current.code} (${current.locale})` : "New template"} width={680} onClose={() => setEditing(null)} destroyOnHidden>
        <Form<TemplateForm>
          key={current ? `${current.code}/${current.locale}/${current.updatedAt}` : "new"}
          layout="vertical"
          initialValues={current ?? { channel: "inbox", locale: "zh-CN", category: "marketing", enabled: true }}
          onFinish={(v) => (current ? update.mutate({ ...v, code: current.code, locale: current.locale }) : create.mutate(v))}
        >
          {!current && (
            <Form.Item name="code" label="Code" extra="2–64 of a-z, 0-9, '.', '_' and '-'" rules={[{ required: true, message: "A code" }, { pattern: /^[a-z0-9][a-z0-9._-]{1,63}$/, message: "2–64 of a-z, 0-9, '.', '_' and '-'" }]}>
              <Input />
            </Form.Item>
          )}
          <Space wrap>
            <Form.Item name="channel" label="Channel"><Select style={{ width: 120 }} disabled={!!current} options={CHANNELS.map((c) => ({ value: c, label: c }))} /></Form.Item>
            <Form.Item name="locale" label="Locale"><Select style={{ width: 120 }} disabled={!!current} options={LOCALES.map((l) => ({ value: l, label: l }))} /></Form.Item>
            <Form.Item name="category" label="Category"><Select style={{ width: 150 }} options={[{ value: "marketing", label: "marketing" }, { value: "transactional", label: "transactional" }]} /></Form.Item>
            <Form.Item name="enabled" label="Enabled" valuePropName="checked"><Switch /></Form.Item>
          </Space>
          <Form.Item name="subject" label="Subject" rules={[{ required: true, message: "A subject" }]}><Input /></Form.Item>
          <Form.Item name="body" label="Body ({{var}} placeholders)" rules={[{ required: true, message: "A body" }]}><Input.TextArea rows={6} /></Form.Item>
          {current && current.variables.length > 0 && (
            <Typography.Paragraph type="secondary">
              {current.builtin ? "May use" : "Uses"}: {current.variables.map((v) => <code key={v} style={{ marginRight: 8 }}>{`{{${v}}}`}</code>)}
            </Typography.Paragraph>
          )}
          <Button type="primary" htmlType="submit" loading={create.isPending || update.isPending}>Save</Button>
        </Form>
        {current && <PreviewCard key={`${current.code}/${current.locale}/${current.updatedAt}`} t={current} />}
      </Drawer>
    </>
  );
}

interface BatchForm {
  templateCode: string;
  audience: "some" | "all";
  userIds?: string;
  link?: string;
  vars?: Record<string, string>;
}

function BatchSend({ batchId, onSent, showLog }: { batchId: string | null; onSent: (id: string) => void; showLog: (batchId: string) => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<BatchForm>();
  const code = Form.useWatch("templateCode", form);
  const audience = Form.useWatch("audience", form);
  const templates = useQuery({ queryKey: ["message-templates", "all"], queryFn: allTemplates });
  const codes = [...new Set((templates.data ?? []).map((t) => t.code))];
  const variants = (templates.data ?? []).filter((t) => t.code === code);
  const names = [...new Set(variants.flatMap((t) => t.variables))].filter((n) => !PER_USER_VARS.includes(n)).sort();
  const progress = useQuery({
    queryKey: ["batch", batchId],
    enabled: !!batchId,
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/messages/batches/{id}", { params: { path: { id: batchId! } } })),
    refetchInterval: (q) => (q.state.data?.status === "COMPLETED" ? false : 1_000),
  });
  const send = useMutation({
    mutationFn: (v: BatchForm) => {
      const ids = (v.userIds ?? "").split(/[\s,]+/).filter(Boolean).map(Number);
      if (v.audience === "some" && (!ids.length || ids.some((n) => !Number.isInteger(n) || n < 1))) throw new Error("User ids are whole numbers separated by commas");
      return mall.call(
        mall.api.POST("/api/v1/admin/messages/batch", {
          headers: { "Idempotency-Key": idempotencyKey() },
          body: { templateCode: v.templateCode, ...(v.audience === "all" ? { all: true } : { userIds: ids }), ...(v.link ? { link: v.link } : {}), vars: given(v.vars) },
        }),
      );
    },
    onSuccess: (r) => { message.success(`Batch created: ${r.queued} recipients`); onSent(r.batchId); },
    onError: (err) => message.error(describe(err)),
  });
  const b = progress.data;
  const done = b ? b.queued - b.pending : 0;
  return (
    <Flex vertical gap={16}>
      {templates.error && <Alert type="error" showIcon message={describe(templates.error)} />}
      <Form<BatchForm> form={form} layout="vertical" style={{ maxWidth: 560 }} initialValues={{ audience: "some" }} onFinish={(v) => send.mutate(v)}>
        <Form.Item name="templateCode" label="Template" rules={[{ required: true, message: "Pick a template" }]}>
          <Select
            showSearch
            loading={templates.isLoading}
            options={codes.map((c) => ({ value: c, label: `${c} (${(templates.data ?? []).find((t) => t.code === c)?.channel})` }))}
          />
        </Form.Item>
        {variants.length > 0 && (
          <Typography.Paragraph type="secondary">
            Goes out in {variants.filter((v) => v.enabled).map((v) => v.locale).join(" and ") || "no locale (disabled)"}, each user in their own language; {PER_USER_VARS.map((v) => `{{${v}}}`).join(" and ")} are filled per recipient.
          </Typography.Paragraph>
        )}
        <Form.Item name="audience" label="To">
          <Radio.Group options={[{ value: "some", label: "These users" }, { value: "all", label: "Every user" }]} />
        </Form.Item>
        {audience !== "all" && (
          <Form.Item name="userIds" label="User ids (comma separated)" rules={[{ required: true, message: "Which users" }]}>
            <Input />
          </Form.Item>
        )}
        <Form.Item name="link" label="Link in the storefront (optional, e.g. /products/12)"><Input /></Form.Item>
        {code && (
          <fieldset style={{ border: "none", padding: 0, margin: "0 0 16px" }}>
            <legend style={{ fontSize: 14, marginBottom: 8 }}>Variables</legend>
            <VarFields names={names} />
          </fieldset>
        )}
        <Button type="primary" htmlType="submit" loading={send.isPending}>Send</Button>
      </Form>
      {progress.error && <Alert type="error" showIcon message={describe(progress.error)} />}
      {b && (
        <Card title={`Batch ${b.batchId}`} size="small" extra={<StatusTag s={b.status} />}>
          <Progress percent={b.queued ? Math.round((done / b.queued) * 100) : 100} status={b.status === "COMPLETED" ? (b.failed ? "exception" : "success") : "active"} aria-label="Batch progress" />
          <Descriptions size="small" column={3} style={{ marginTop: 8 }}>
            <Descriptions.Item label="Template">{b.templateCode} ({b.channel})</Descriptions.Item>
            <Descriptions.Item label="Started">{when(b.createdAt)}</Descriptions.Item>
            <Descriptions.Item label="Finished">{when(b.finishedAt)}</Descriptions.Item>
          </Descriptions>
          <p data-testid="batch-progress">
            {b.status}: {b.sent} sent, {b.failed} failed, {b.suppressed} suppressed, {b.skipped} skipped, {b.pending} pending of {b.queued}
          </p>
          <Button onClick={() => showLog(b.batchId)}>Show its deliveries</Button>
        </Card>
      )}
    </Flex>
  );
}

interface DeliveryFilter {
  channel?: Channel;
  status?: DeliveryStatus;
  userId?: number;
  batchId?: string;
  page: number;
}

function DeliveryDetail({ id, onClose }: { id: number | null; onClose: () => void }) {
  const q = useQuery({ queryKey: ["delivery", id], enabled: id !== null, queryFn: () => mall.call(mall.api.GET("/api/v1/admin/messages/deliveries/{id}", { params: { path: { id: id! } } })) });
  const d = q.data;
  return (
    <Drawer open={id !== null} title={`Delivery ${id ?? ""}`} width={640} onClose={onClose} destroyOnHidden>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      {d && (
        <>
          <Descriptions size="small" column={2} bordered>
            <Descriptions.Item label="Status"><StatusTag s={d.status} /></Descriptions.Item>
            <Descriptions.Item label="Attempts">{d.attempts}</Descriptions.Item>
            <Descriptions.Item label="User">{d.userId ?? "—"}</Descriptions.Item>
            <Descriptions.Item label="Recipient">{d.recipient ?? "—"}</Descriptions.Item>
            <Descriptions.Item label="Channel">{d.channel}</Descriptions.Item>
            <Descriptions.Item label="Provider">{d.provider ?? "—"}</Descriptions.Item>
            <Descriptions.Item label="Template">{d.templateCode} ({d.locale}, {d.category})</Descriptions.Item>
            <Descriptions.Item label="Batch">{d.batchId ?? "—"}</Descriptions.Item>
            <Descriptions.Item label="Created">{when(d.createdAt)}</Descriptions.Item>
            <Descriptions.Item label="Sent">{when(d.sentAt)}</Descriptions.Item>
            {d.lastError && <Descriptions.Item label="Last error" span={2}>{d.lastError}</Descriptions.Item>}
            {d.nextAttemptAt && <Descriptions.Item label="Next attempt" span={2}>{when(d.nextAttemptAt)}</Descriptions.Item>}
          </Descriptions>
          <Typography.Title level={2} style={{ fontSize: 16, marginTop: 16 }}>{d.subject ?? "(no subject)"}</Typography.Title>
          {d.body === null ? (
            <Typography.Text type="secondary">The text is not kept for this delivery.</Typography.Text>
          ) : d.channel === "email" ? (
            <iframe title="Email as sent" sandbox="" srcDoc={d.body} style={{ width: "100%", height: 320, border: "1px solid #d9d9d9" }} />
          ) : (
            <pre style={{ whiteSpace: "pre-wrap" }}>{d.body}</pre>
          )}
        </>
      )}
    </Drawer>
  );
}

function Deliveries({ filter, setFilter }: { filter: DeliveryFilter; setFilter: (f: (prev: DeliveryFilter) => DeliveryFilter) => void }) {
  const [open, setOpen] = useState<number | null>(null);
  const q = useQuery({
    queryKey: ["deliveries", filter],
    queryFn: () => mall.call(mall.api.GET("/api/v1/admin/messages/deliveries", { params: { query: { ...filter, pageSize: 20 } } })),
    refetchInterval: 5_000,
  });
  const userId = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined);
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Select<Channel> aria-label="Channel" allowClear placeholder="Any channel" style={{ width: 140 }} value={filter.channel} onChange={(channel) => setFilter((f) => ({ ...f, channel, page: 1 }))} options={CHANNELS.map((c) => ({ value: c, label: c }))} />
        <Select<DeliveryStatus> aria-label="Delivery status" allowClear placeholder="Any status" style={{ width: 150 }} value={filter.status} onChange={(status) => setFilter((f) => ({ ...f, status, page: 1 }))} options={STATUSES.map((s) => ({ value: s, label: s }))} />
        <Input.Search aria-label="User id" placeholder="User id" allowClear style={{ width: 160 }} onSearch={(v) => setFilter((f) => ({ ...f, userId: userId(v), page: 1 }))} />
        {filter.batchId && (
          <Tag closable onClose={() => setFilter((f) => ({ ...f, batchId: undefined, page: 1 }))} data-testid="batch-filter">
            batch {filter.batchId}
          </Tag>
        )}
      </Space>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} style={{ marginBottom: 16 }} />}
      <Table<Delivery>
        rowKey="id"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: filter.page, pageSize: 20, total: q.data?.total ?? 0, showSizeChanger: false, onChange: (page) => setFilter((f) => ({ ...f, page })) }}
        columns={[
          { title: "When", dataIndex: "createdAt", render: when },
          { title: "User", dataIndex: "userId" },
          { title: "Channel", dataIndex: "channel" },
          { title: "Template", dataIndex: "templateCode" },
          { title: "Recipient", dataIndex: "recipient" },
          { title: "Subject", dataIndex: "subject" },
          { title: "Status", dataIndex: "status", render: (s: string) => <StatusTag s={s} /> },
          { title: "Attempts", dataIndex: "attempts", align: "right" },
          { title: "Error", dataIndex: "lastError", ellipsis: true },
          { title: "Actions", render: (_: unknown, d) => <Button size="small" onClick={() => setOpen(d.id)}>View</Button> },
        ]}
      />
      <DeliveryDetail id={open} onClose={() => setOpen(null)} />
    </>
  );
}

export default function Messages() {
  const [tab, setTab] = useState("templates");
  const [batchId, setBatchId] = useState<string | null>(null);
  const [filter, setFilter] = useState<DeliveryFilter>({ page: 1 });
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>Messages</Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          { key: "templates", label: "Templates", children: <Templates /> },
          {
            key: "batch",
            label: "Batch send",
            children: <BatchSend batchId={batchId} onSent={setBatchId} showLog={(id) => { setFilter({ batchId: id, page: 1 }); setTab("log"); }} />,
          },
          { key: "log", label: "Delivery log", children: <Deliveries filter={filter} setFilter={setFilter} /> },
        ]}
      />
    </>
  );
}
