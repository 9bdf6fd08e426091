/**
 * Messages: templates with a rendered preview, batch sends with live progress, the delivery log.
 * API.md "Messages" — the messages service is built in parallel: the console calls its routes
 * through `mall.raw` and says so when they are not there yet.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Drawer, Flex, Form, Input, Progress, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { describe, idempotencyKey, isApiError, mall, when } from "../api";

export interface MessageTemplate {
  code: string;
  channel: "inbox" | "email" | "sms";
  subject: string;
  body: string;
}
export interface Batch {
  batchId: string | number;
  status: string;
  queued: number;
  sent: number;
  failed: number;
}
interface Delivery {
  id: number;
  userId: number;
  channel: string;
  status: string;
  templateCode?: string;
  subject?: string;
  createdAt?: string;
  error?: string | null;
}
const listOf = <T,>(d: T[] | { items: T[] } | undefined): T[] => (Array.isArray(d) ? d : (d?.items ?? []));
const absent = (err: unknown) => isApiError(err) && (err.status === 404 || err.status === 503);
const Missing = () => <Alert type="info" showIcon message="Messages are not available on this shop yet (the messages service is not running)." style={{ marginBottom: 16 }} />;
const vars = (text: string): Record<string, string> => {
  try {
    return text.trim() ? (JSON.parse(text) as Record<string, string>) : {};
  } catch {
    throw new Error("Variables must be JSON, e.g. {\"name\": \"Li\"}");
  }
};

function Templates() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<MessageTemplate | "new" | null>(null);
  const [preview, setPreview] = useState<{ subject: string; body: string } | null>(null);
  const [previewVars, setPreviewVars] = useState("{}");
  const q = useQuery({ queryKey: ["message-templates"], queryFn: () => mall.raw<MessageTemplate[] | { items: MessageTemplate[] }>("GET", "/api/v1/admin/message-templates"), retry: false });
  const save = useMutation({
    mutationFn: (t: MessageTemplate) =>
      editing === "new"
        ? mall.raw<MessageTemplate>("POST", "/api/v1/admin/message-templates", { body: t, headers: { "Idempotency-Key": idempotencyKey() } })
        : mall.raw<MessageTemplate>("PATCH", `/api/v1/admin/message-templates/${encodeURIComponent(t.code)}`, { body: { channel: t.channel, subject: t.subject, body: t.body } }),
    onSuccess: () => { message.success("Template saved"); setEditing(null); void qc.invalidateQueries({ queryKey: ["message-templates"] }); },
    onError: (err) => message.error(describe(err)),
  });
  const render = useMutation({
    mutationFn: (code: string) => mall.raw<{ subject: string; body: string }>("POST", `/api/v1/admin/message-templates/${encodeURIComponent(code)}/preview`, { body: { vars: vars(previewVars) } }),
    onSuccess: setPreview,
    onError: (err) => message.error(err instanceof Error && !isApiError(err) ? err.message : describe(err)),
  });
  if (absent(q.error)) return <Missing />;
  const current = editing && editing !== "new" ? editing : null;
  return (
    <>
      <Button type="primary" style={{ marginBottom: 16 }} onClick={() => setEditing("new")}>New template</Button>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table<MessageTemplate>
        rowKey="code"
        loading={q.isLoading}
        dataSource={listOf(q.data)}
        columns={[
          { title: "Code", dataIndex: "code" },
          { title: "Channel", dataIndex: "channel", render: (c: string) => <Tag>{c}</Tag> },
          { title: "Subject", dataIndex: "subject" },
          { title: "", render: (_: unknown, t) => <Button size="small" onClick={() => { setEditing(t); setPreview(null); }}>Edit / preview</Button> },
        ]}
      />
      <Drawer open={!!editing} title={current ? `Template ${current.code}` : "New template"} width={640} onClose={() => setEditing(null)} destroyOnHidden>
        <Form layout="vertical" initialValues={current ?? { channel: "inbox" }} onFinish={(v: MessageTemplate) => save.mutate({ ...v, code: current?.code ?? v.code })}>
          {!current && <Form.Item name="code" label="Code" rules={[{ required: true, message: "A code" }]}><Input /></Form.Item>}
          <Form.Item name="channel" label="Channel"><Select options={["inbox", "email", "sms"].map((c) => ({ value: c, label: c }))} /></Form.Item>
          <Form.Item name="subject" label="Subject" rules={[{ required: true, message: "A subject" }]}><Input /></Form.Item>
          <Form.Item name="body" label="Body ({{var}} placeholders)" rules={[{ required: true, message: "A body" }]}><Input.TextArea rows={6} /></Form.Item>
          <Button type="primary" htmlType="submit" loading={save.isPending}>Save</Button>
        </Form>
        {current && (
          <Card title="Preview" size="small" style={{ marginTop: 24 }}>
            <Space direction="vertical" style={{ width: "100%" }}>
              <Input.TextArea aria-label="Preview variables (JSON)" rows={2} value={previewVars} onChange={(e) => setPreviewVars(e.target.value)} />
              <Button onClick={() => render.mutate(current.code)} loading={render.isPending}>Render preview</Button>
              {preview && (
                <div data-testid="preview">
                  <Typography.Text strong>{preview.subject}</Typography.Text>
                  <pre style={{ whiteSpace: "pre-wrap" }}>{preview.body}</pre>
                </div>
              )}
            </Space>
          </Card>
        )}
      </Drawer>
    </>
  );
}

function BatchSend() {
  const { message } = App.useApp();
  const [batchId, setBatchId] = useState<string | null>(null);
  const templates = useQuery({ queryKey: ["message-templates"], queryFn: () => mall.raw<MessageTemplate[] | { items: MessageTemplate[] }>("GET", "/api/v1/admin/message-templates"), retry: false });
  const progress = useQuery({
    queryKey: ["batch", batchId],
    enabled: !!batchId,
    queryFn: () => mall.raw<Batch>("GET", `/api/v1/admin/messages/batches/${batchId}`),
    refetchInterval: (q) => (q.state.data && !/QUEUED|RUNNING|SENDING/i.test(q.state.data.status) ? false : 1_000),
  });
  const send = useMutation({
    mutationFn: (v: { templateCode: string; audience: "all" | "some"; userIds?: string; vars?: string }) =>
      mall.raw<{ batchId: string | number; queued: number }>("POST", "/api/v1/admin/messages/batch", {
        headers: { "Idempotency-Key": idempotencyKey() },
        body: {
          templateCode: v.templateCode,
          ...(v.audience === "all" ? { all: true } : { userIds: (v.userIds ?? "").split(/[\s,]+/).filter(Boolean).map(Number) }),
          vars: vars(v.vars ?? ""),
        },
      }),
    onSuccess: (r) => { message.success(`${r.queued} messages queued`); setBatchId(String(r.batchId)); },
    onError: (err) => message.error(err instanceof Error && !isApiError(err) ? err.message : describe(err)),
  });
  if (absent(templates.error)) return <Missing />;
  const b = progress.data;
  const done = b ? b.sent + b.failed : 0;
  return (
    <Flex vertical gap={16}>
      <Form layout="vertical" style={{ maxWidth: 520 }} initialValues={{ audience: "some", vars: "{}" }} onFinish={(v) => send.mutate(v)}>
        <Form.Item name="templateCode" label="Template" rules={[{ required: true, message: "Pick a template" }]}>
          <Select options={listOf(templates.data).map((t) => ({ value: t.code, label: `${t.code} (${t.channel})` }))} />
        </Form.Item>
        <Form.Item name="audience" label="To"><Select options={[{ value: "some", label: "These users" }, { value: "all", label: "Every user" }]} /></Form.Item>
        <Form.Item name="userIds" label="User ids (comma separated)"><Input /></Form.Item>
        <Form.Item name="vars" label="Variables (JSON)"><Input.TextArea rows={2} /></Form.Item>
        <Button type="primary" htmlType="submit" loading={send.isPending}>Send</Button>
      </Form>
      {b && (
        <Card title={`Batch ${b.batchId}`} size="small">
          <Progress percent={b.queued ? Math.round((done / b.queued) * 100) : 100} status={b.failed ? "exception" : undefined} />
          <span data-testid="batch-progress">{b.status}: {b.sent} sent, {b.failed} failed of {b.queued}</span>
        </Card>
      )}
    </Flex>
  );
}

function Deliveries() {
  const [filters, setFilters] = useState<{ channel?: string; status?: string; userId?: string }>({});
  const q = useQuery({ queryKey: ["deliveries", filters], queryFn: () => mall.raw<Delivery[] | { items: Delivery[] }>("GET", "/api/v1/admin/messages/deliveries", { query: filters }), retry: false });
  if (absent(q.error)) return <Missing />;
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Select aria-label="Channel" allowClear placeholder="Any channel" style={{ width: 140 }} onChange={(channel) => setFilters((f) => ({ ...f, channel }))} options={["inbox", "email", "sms"].map((c) => ({ value: c, label: c }))} />
        <Input.Search aria-label="User id" placeholder="User id" allowClear style={{ width: 160 }} onSearch={(userId) => setFilters((f) => ({ ...f, userId: userId || undefined }))} />
      </Space>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table<Delivery>
        rowKey="id"
        loading={q.isLoading}
        dataSource={listOf(q.data)}
        columns={[
          { title: "When", dataIndex: "createdAt", render: when },
          { title: "User", dataIndex: "userId" },
          { title: "Channel", dataIndex: "channel" },
          { title: "Template", dataIndex: "templateCode" },
          { title: "Subject", dataIndex: "subject" },
          { title: "Status", dataIndex: "status", render: (s: string) => <Tag>{s}</Tag> },
          { title: "Error", dataIndex: "error" },
        ]}
      />
    </>
  );
}

export default function Messages() {
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>Messages</Typography.Title>
      <Tabs items={[{ key: "templates", label: "Templates", children: <Templates /> }, { key: "batch", label: "Batch send", children: <BatchSend /> }, { key: "log", label: "Delivery log", children: <Deliveries /> }]} />
    </>
  );
}
