/**
 * Editing a product that exists: its title, texts, category, brand, status and images (PATCH
 * /products/:id), its SKUs one row at a time (code, attributes, price: PATCH
 * /products/:id/skus/:skuId) and new SKUs with starting stock (POST /products/:id/skus). Stock
 * of an existing SKU is the Inventory page's (adjustments with a reason), not this one's.
 */
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Divider, Drawer, Flex, Form, Input, InputNumber, Space, Spin, Table, Typography, type UploadFile } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, mall, money } from "../api";
import { ProductFieldInputs, formatAttrs, imageFiles, imageUrls, parseAttrs, showFieldErrors, toFen, toYuan } from "./catalog-common";

type Product = Schemas["ProductDetail"];
type Sku = Schemas["Sku"];
type Status = "ON_SALE" | "OFF_SALE";

export const productQuery = (id: number) => ({
  queryKey: ["product", id],
  queryFn: () => mall.call(mall.api.GET("/api/v1/products/{id}", { params: { path: { id } } })),
});

export function EditProduct({ id, onClose }: { id: number | null; onClose: () => void }) {
  const product = useQuery({ ...productQuery(id ?? 0), enabled: id !== null });
  return (
    <Drawer title={id ? `Edit product ${id}` : "Edit product"} open={id !== null} onClose={onClose} width={820} destroyOnHidden>
      {product.isPending && <Spin />}
      {product.error && <Alert type="error" showIcon role="alert" message={describe(product.error)} action={<Button onClick={() => void product.refetch()}>Retry</Button>} />}
      {product.data && (
        <>
          <ProductFields key={product.data.id} p={product.data} />
          <Divider />
          <Skus p={product.data} />
        </>
      )}
    </Drawer>
  );
}

interface FieldsForm {
  title: string;
  subtitle?: string;
  description?: string;
  categoryId: number;
  brandId?: number | null;
  status: Status;
}

function ProductFields({ p }: { p: Product }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<FieldsForm>();
  const [images, setImages] = useState<UploadFile[]>(() => imageFiles(p.images));
  const save = useMutation({
    mutationFn: (v: FieldsForm) =>
      mall.call(
        mall.api.PATCH("/api/v1/products/{id}", {
          params: { path: { id: p.id } },
          body: {
            title: v.title,
            subtitle: v.subtitle ?? "",
            description: v.description ?? "",
            categoryId: v.categoryId,
            brandId: v.brandId ?? null,
            status: v.status,
            images: imageUrls(images),
          },
        }),
      ),
    onSuccess: (saved) => {
      qc.setQueryData(["product", p.id], saved);
      void qc.invalidateQueries({ queryKey: ["products"] });
      message.success("Product saved");
    },
    onError: (err) => {
      showFieldErrors(form, err, ["title", "subtitle", "description", "categoryId", "brandId", "status"]);
      message.error(describe(err));
    },
  });
  const uploading = images.some((f) => f.status === "uploading");
  return (
    <Form
      form={form}
      layout="vertical"
      onFinish={(v) => save.mutate(v)}
      initialValues={{ title: p.title, subtitle: p.subtitle, description: p.description, categoryId: p.categoryId, brandId: p.brandId, status: p.status }}
    >
      <ProductFieldInputs images={images} setImages={setImages} />
      <Flex justify="end">
        <Button type="primary" htmlType="submit" loading={save.isPending} disabled={uploading}>
          Save product
        </Button>
      </Flex>
    </Form>
  );
}

interface Draft {
  skuCode: string;
  attrs: string;
  price: number | null;
}
const draftOf = (s: Sku): Draft => ({ skuCode: s.skuCode, attrs: formatAttrs(s.attrs), price: toYuan(s.price) });

function Skus({ p }: { p: Product }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [drafts, setDrafts] = useState<Record<number, Draft>>({});
  const draft = (s: Sku) => drafts[s.id] ?? draftOf(s);
  const edit = (s: Sku, change: Partial<Draft>) => setDrafts((d) => ({ ...d, [s.id]: { ...draft(s), ...change } }));
  const dirty = (s: Sku) => {
    const d = drafts[s.id];
    if (!d) return false;
    const o = draftOf(s);
    return d.skuCode.trim() !== o.skuCode || formatAttrs(parseAttrs(d.attrs)) !== o.attrs || d.price !== o.price;
  };
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["product", p.id] });
    void qc.invalidateQueries({ queryKey: ["products"] });
  };
  const save = useMutation({
    mutationFn: ({ s, d }: { s: Sku; d: Draft }) => {
      const o = draftOf(s);
      // only what changed: a price edit never re-sends (and re-checks) the code
      const body: { skuCode?: string; attrs?: Record<string, string>; price?: number } = {};
      if (d.skuCode.trim() !== o.skuCode) body.skuCode = d.skuCode.trim();
      if (formatAttrs(parseAttrs(d.attrs)) !== o.attrs) body.attrs = parseAttrs(d.attrs);
      if (d.price !== o.price && d.price !== null) body.price = toFen(d.price);
      return mall.call(mall.api.PATCH("/api/v1/products/{id}/skus/{skuId}", { params: { path: { id: p.id, skuId: s.id } }, body }));
    },
    onSuccess: (saved) => {
      setDrafts(({ [saved.id]: _, ...rest }) => rest);
      message.success(`SKU ${saved.skuCode} saved`);
      refresh();
    },
    onError: (err) => message.error(describe(err)),
  });
  return (
    <>
      <Typography.Title level={2} style={{ fontSize: 16 }}>
        SKUs
      </Typography.Title>
      <Table
        rowKey="id"
        size="small"
        pagination={false}
        dataSource={p.skus}
        columns={[
          { title: "ID", dataIndex: "id", width: 70 },
          {
            title: "Code",
            render: (_: unknown, s) => <Input aria-label={`Code of SKU ${s.id}`} value={draft(s).skuCode} maxLength={64} onChange={(e) => edit(s, { skuCode: e.target.value })} />,
          },
          {
            title: "Attributes",
            render: (_: unknown, s) => <Input aria-label={`Attributes of SKU ${s.id}`} placeholder="color=red, size=L" value={draft(s).attrs} onChange={(e) => edit(s, { attrs: e.target.value })} />,
          },
          {
            title: "Price",
            width: 150,
            render: (_: unknown, s) => (
              <InputNumber aria-label={`Price of SKU ${s.id}`} min={0} step={0.01} precision={2} prefix="¥" value={draft(s).price} onChange={(v) => edit(s, { price: v })} style={{ width: 130 }} />
            ),
          },
          { title: "Available", dataIndex: "available", align: "right", width: 90, render: (n: number | null) => n ?? "—" },
          {
            title: "",
            width: 150,
            render: (_: unknown, s) => (
              <Space>
                <Button
                  size="small"
                  type="primary"
                  aria-label={`Save SKU ${s.id}`}
                  disabled={!dirty(s) || !draft(s).skuCode.trim() || draft(s).price === null}
                  loading={save.isPending && save.variables?.s.id === s.id}
                  onClick={() => save.mutate({ s, d: draft(s) })}
                >
                  Save
                </Button>
                {dirty(s) && (
                  <Button size="small" aria-label={`Undo changes to SKU ${s.id}`} onClick={() => setDrafts(({ [s.id]: _, ...rest }) => rest)}>
                    Undo
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
        summary={() => (
          <Table.Summary.Row>
            <Table.Summary.Cell index={0} colSpan={6}>
              <Typography.Text type="secondary">
                {p.skus.length} SKU(s), {p.minPrice === p.maxPrice ? money(p.minPrice, p.currency) : `${money(p.minPrice, p.currency)} – ${money(p.maxPrice, p.currency)}`}. Stock is changed on the Inventory page.
              </Typography.Text>
            </Table.Summary.Cell>
          </Table.Summary.Row>
        )}
      />
      <NewSku productId={p.id} onAdded={refresh} />
    </>
  );
}

interface NewSkuForm {
  skuCode: string;
  attrs?: string;
  price: number;
  stock?: number;
}

function NewSku({ productId, onAdded }: { productId: number; onAdded: () => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<NewSkuForm>();
  // one key per content: a retry of the same SKU after a lost answer is not a second SKU
  const [key, setKey] = useState(idempotencyKey);
  useEffect(() => setKey(idempotencyKey()), [productId]);
  const add = useMutation({
    mutationFn: (v: NewSkuForm) =>
      mall.call(
        mall.api.POST("/api/v1/products/{id}/skus", {
          params: { path: { id: productId } },
          headers: { "Idempotency-Key": key },
          body: { skuCode: v.skuCode.trim(), attrs: parseAttrs(v.attrs), price: toFen(v.price), stock: v.stock ?? 0 },
        }),
      ),
    onSuccess: (sku) => {
      message.success(`SKU ${sku.skuCode} added`);
      form.resetFields();
      setKey(idempotencyKey());
      onAdded();
    },
    onError: (err) => {
      showFieldErrors(form, err, ["skuCode", "attrs", "price", "stock"]);
      message.error(describe(err));
    },
  });
  return (
    <Form form={form} layout="inline" style={{ marginTop: 16, rowGap: 8 }} onFinish={(v) => add.mutate(v)} onValuesChange={() => setKey(idempotencyKey())} aria-label="Add a SKU">
      <Form.Item name="skuCode" rules={[{ required: true, whitespace: true, message: "SKU code" }]}>
        <Input placeholder="New SKU code" aria-label="New SKU code" maxLength={64} />
      </Form.Item>
      <Form.Item name="attrs">
        <Input placeholder="color=red, size=L" aria-label="New SKU attributes" />
      </Form.Item>
      <Form.Item name="price" rules={[{ required: true, message: "Price" }]}>
        <InputNumber min={0} step={0.01} precision={2} prefix="¥" placeholder="Price" aria-label="New SKU price" />
      </Form.Item>
      <Form.Item name="stock">
        <InputNumber min={0} precision={0} placeholder="Stock" aria-label="New SKU starting stock" />
      </Form.Item>
      <Button htmlType="submit" icon={<PlusOutlined />} loading={add.isPending}>
        Add SKU
      </Button>
    </Form>
  );
}
