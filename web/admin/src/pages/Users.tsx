/** Users (admin only): search, roles, disable/enable, end every session, wallet credit with a reason. */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Checkbox, Flex, Form, Input, InputNumber, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, mall, when, TAG } from "../api";

type User = Schemas["User"];
type Role = "customer" | "operator" | "admin";

export default function Users() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [q, setQ] = useState("");
  const [role, setRole] = useState<Role | undefined>();
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<User | null>(null);
  const [crediting, setCrediting] = useState<User | null>(null);
  const list = useQuery({ queryKey: ["users", q, role, page], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/users", { params: { query: { q: q || undefined, role, page, pageSize: 20 } } })) });
  const ok = (what: string) => () => {
    message.success(what);
    void qc.invalidateQueries({ queryKey: ["users"] });
  };
  const fail = (err: unknown) => message.error(describe(err));
  const setRoles = useMutation({
    mutationFn: ({ id, roles }: { id: number; roles: Role[] }) => mall.call(mall.api.PUT("/api/v1/admin/users/{id}/roles", { params: { path: { id } }, body: { roles } })),
    onSuccess: () => { setEditing(null); ok("Roles saved; the user's tokens carry them after the next refresh")(); },
    onError: fail,
  });
  const setStatus = useMutation({
    mutationFn: ({ id, status }: { id: number; status: "ACTIVE" | "DISABLED" }) => mall.call(mall.api.PATCH("/api/v1/admin/users/{id}/status", { params: { path: { id } }, body: { status } })),
    onSuccess: ok("Status saved"),
    onError: fail,
  });
  const revoke = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.POST("/api/v1/admin/users/{id}/revoke-sessions", { params: { path: { id } } })),
    onSuccess: ok("Every session of the user has ended"),
    onError: fail,
  });
  const credit = useMutation({
    mutationFn: ({ id, amount, reason }: { id: number; amount: number; reason: string }) =>
      mall.call(mall.api.POST("/api/v1/admin/users/{id}/wallet/credit", { params: { path: { id } }, headers: { "Idempotency-Key": idempotencyKey() }, body: { amount: Math.round(amount * 100), reason } })),
    onSuccess: () => { setCrediting(null); ok("Wallet credited")(); },
    onError: fail,
  });
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>Users</Typography.Title>
      <Space wrap>
        <Input.Search aria-label="Search users" placeholder="username, email, mobile, nickname" allowClear style={{ width: 320 }} onSearch={(v) => { setQ(v); setPage(1); }} />
        <Select aria-label="Role filter" allowClear placeholder="Any role" style={{ width: 150 }} value={role} onChange={(v) => { setRole(v); setPage(1); }} options={["customer", "operator", "admin"].map((r) => ({ value: r, label: r }))} />
      </Space>
      {list.error && <Alert type="error" showIcon message={describe(list.error)} />}
      <Table<User>
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={{ current: page, pageSize: 20, total: list.data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: "ID", dataIndex: "id", width: 70 },
          { title: "Username", dataIndex: "username" },
          { title: "Email", dataIndex: "email" },
          { title: "Roles", dataIndex: "roles", render: (rs: string[]) => rs.map((r) => <Tag key={r} color={TAG[r === "admin" ? "red" : r === "operator" ? "blue" : "default"]}>{r}</Tag>) },
          { title: "Status", dataIndex: "status", render: (s: string) => <Tag color={TAG[s === "ACTIVE" ? "green" : "default"]}>{s}</Tag> },
          { title: "Since", dataIndex: "createdAt", render: when },
          {
            title: "",
            render: (_: unknown, u) => (
              <Space wrap>
                <Button size="small" onClick={() => setEditing(u)}>Roles</Button>
                <Button size="small" onClick={() => setStatus.mutate({ id: u.id, status: u.status === "ACTIVE" ? "DISABLED" : "ACTIVE" })}>{u.status === "ACTIVE" ? "Disable" : "Enable"}</Button>
                <Popconfirm title="End every session of this user?" onConfirm={() => revoke.mutate(u.id)}>
                  <Button size="small">Revoke sessions</Button>
                </Popconfirm>
                <Button size="small" onClick={() => setCrediting(u)}>Credit wallet</Button>
              </Space>
            ),
          },
        ]}
      />
      <Modal open={!!editing} title={`Roles of ${editing?.username ?? ""}`} footer={null} onCancel={() => setEditing(null)} destroyOnHidden>
        {editing && (
          <Form layout="vertical" initialValues={{ roles: editing.roles }} onFinish={(v: { roles: Role[] }) => setRoles.mutate({ id: editing.id, roles: v.roles })}>
            <Form.Item name="roles" rules={[{ required: true, message: "At least one role" }]}>
              <Checkbox.Group options={["customer", "operator", "admin"]} />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={setRoles.isPending}>Save roles</Button>
          </Form>
        )}
      </Modal>
      <Modal open={!!crediting} title={`Credit the wallet of ${crediting?.username ?? ""}`} footer={null} onCancel={() => setCrediting(null)} destroyOnHidden>
        {crediting && (
          <Form layout="vertical" onFinish={(v: { amount: number; reason: string }) => credit.mutate({ id: crediting.id, ...v })}>
            <Form.Item name="amount" label="Amount (¥)" rules={[{ required: true, message: "How much" }]}><InputNumber min={0.01} step={0.01} /></Form.Item>
            <Form.Item name="reason" label="Reason" rules={[{ required: true, message: "Say why (it is in the ledger)" }]}><Input maxLength={255} /></Form.Item>
            <Button type="primary" htmlType="submit" loading={credit.isPending}>Credit</Button>
          </Form>
        )}
      </Modal>
    </Flex>
  );
}
