/** Inventory: SKUs at or under their threshold, and one SKU's stock, movement log, adjustment and threshold. */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Flex, Form, Input, InputNumber, Space, Table, Tag, Typography } from "antd";
import { describe, mall, when } from "../api";

function SkuStock({ skuId }: { skuId: number }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const level = useQuery({ queryKey: ["stock", skuId], queryFn: () => mall.call(mall.api.GET("/api/v1/inventory/{skuId}", { params: { path: { skuId } } })) });
  const moves = useQuery({
    queryKey: ["movements", skuId, page],
    queryFn: () => mall.call(mall.api.GET("/api/v1/inventory/{skuId}/movements", { params: { path: { skuId }, query: { page, pageSize: 10 } } })),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["stock", skuId] });
    void qc.invalidateQueries({ queryKey: ["movements", skuId] });
    void qc.invalidateQueries({ queryKey: ["low-stock"] });
  };
  const adjust = useMutation({
    mutationFn: (v: { delta: number; reason: string }) => mall.call(mall.api.POST("/api/v1/inventory/{skuId}/adjust", { params: { path: { skuId } }, body: v })),
    onSuccess: () => { message.success("Stock adjusted"); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  const threshold = useMutation({
    mutationFn: (lowStockThreshold: number) => mall.call(mall.api.PATCH("/api/v1/inventory/{skuId}", { params: { path: { skuId } }, body: { lowStockThreshold } })),
    onSuccess: () => { message.success("Threshold saved"); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  if (level.error) return <Alert type="error" showIcon message={describe(level.error)} />;
  const l = level.data;
  return (
    <Card title={`SKU ${skuId}`} loading={level.isLoading}>
      {l && (
        <Descriptions size="small" column={4} items={[
          { key: "onHand", label: "On hand", children: l.onHand },
          { key: "reserved", label: "Reserved", children: l.reserved },
          { key: "available", label: "Available", children: <span data-testid="available">{l.available}</span> },
          { key: "threshold", label: "Low-stock threshold", children: l.lowStockThreshold },
        ]} />
      )}
      <Flex gap={32} wrap style={{ marginTop: 16 }}>
        <Form layout="inline" onFinish={(v: { delta: number; reason: string }) => adjust.mutate(v)}>
          <Form.Item name="delta" label="Add / take" rules={[{ required: true, message: "How many" }]}>
            <InputNumber precision={0} placeholder="+10 or -3" />
          </Form.Item>
          <Form.Item name="reason" label="Reason" rules={[{ required: true, message: "Say why" }]}>
            <Input placeholder="stocktake, damaged…" maxLength={255} />
          </Form.Item>
          <Button htmlType="submit" type="primary" loading={adjust.isPending}>Adjust</Button>
        </Form>
        <Form layout="inline" onFinish={(v: { t: number }) => threshold.mutate(v.t)}>
          <Form.Item name="t" label="Threshold" rules={[{ required: true, message: "A number" }]}>
            <InputNumber min={0} precision={0} />
          </Form.Item>
          <Button htmlType="submit" loading={threshold.isPending}>Save threshold</Button>
        </Form>
      </Flex>
      <Typography.Title level={2} style={{ fontSize: 16, marginTop: 24 }}>Movement log</Typography.Title>
      <Table
        size="small"
        rowKey="id"
        loading={moves.isLoading}
        dataSource={moves.data?.items ?? []}
        pagination={{ current: page, pageSize: 10, total: moves.data?.total ?? 0, onChange: setPage }}
        columns={[
          { title: "When", dataIndex: "createdAt", render: when },
          { title: "Type", dataIndex: "type", render: (t: string) => <Tag>{t}</Tag> },
          { title: "On hand Δ", dataIndex: "onHandDelta", align: "right" },
          { title: "Reserved Δ", dataIndex: "reservedDelta", align: "right" },
          { title: "Reference", dataIndex: "reference" },
          { title: "Reason", dataIndex: "reason" },
        ]}
      />
    </Card>
  );
}

export default function Inventory() {
  const [skuId, setSkuId] = useState<number | null>(null);
  const [page, setPage] = useState(1);
  const low = useQuery({ queryKey: ["low-stock", page], queryFn: () => mall.call(mall.api.GET("/api/v1/inventory/low-stock", { params: { query: { page, pageSize: 10 } } })) });
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>Inventory</Typography.Title>
      <Space>
        <Input.Search aria-label="SKU id" placeholder="SKU id" enterButton="Open" onSearch={(v) => Number(v) > 0 && setSkuId(Number(v))} style={{ width: 240 }} />
      </Space>
      {skuId && <SkuStock key={skuId} skuId={skuId} />}
      <Card title="Low stock">
        <Table
          size="small"
          rowKey="skuId"
          loading={low.isLoading}
          dataSource={low.data?.items ?? []}
          pagination={{ current: page, pageSize: 10, total: low.data?.total ?? 0, onChange: setPage }}
          columns={[
            { title: "SKU", dataIndex: "skuId" },
            { title: "Available", dataIndex: "available", align: "right" },
            { title: "On hand", dataIndex: "onHand", align: "right" },
            { title: "Threshold", dataIndex: "lowStockThreshold", align: "right" },
            { title: "", render: (_: unknown, r) => <Button size="small" onClick={() => setSkuId(r.skuId)}>Open</Button> },
          ]}
        />
      </Card>
    </Flex>
  );
}
