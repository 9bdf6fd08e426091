/**
 * Catalog: products (search, on/off sale one by one or in bulk, create with SKUs, starting stock
 * and images uploaded with a preview; edit a product, its SKUs and add SKUs in a drawer that the
 * address keeps open: ?edit=<id>), the category tree (drag a category onto another to move it,
 * rename), brands (rename), and the search synonyms.
 */
import { useState } from "react";
import { useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Drawer, Flex, Form, Input, InputNumber, Popconfirm, Select, Space, Table, Tabs, Tag, Tree, TreeSelect, Typography, type UploadFile } from "antd";
import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import type { Schemas } from "../../../shared";
import { describe, idempotencyKey, mall, money, TAG } from "../api";
import { ProductFieldInputs, imageUrls, parseAttrs, RenameDialog, toFen, treeData, useBrands, useCategories, type TreeNode } from "./catalog-common";
import { EditProduct } from "./CatalogProductEdit";
import Synonyms from "./CatalogSynonyms";

type Category = Schemas["CategoryNode"];
type Status = "ON_SALE" | "OFF_SALE";

function Products() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [q, setQ] = useState("");
  const [status, setStatus] = useState<Status | undefined>();
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<number[]>([]);
  const [creating, setCreating] = useState(false);
  const [params, setParams] = useSearchParams();
  const editing = Number(params.get("edit")) || null;
  const setEditing = (id: number | null) =>
    setParams((ps) => {
      const next = new URLSearchParams(ps);
      if (id) next.set("edit", String(id));
      else next.delete("edit");
      return next;
    });
  const list = useQuery({
    queryKey: ["products", q, status, page],
    queryFn: () => mall.call(mall.api.GET("/api/v1/products", { params: { query: { q: q || undefined, status, page, pageSize: 20, sort: "newest" } } })),
  });
  const setStatuses = useMutation({
    mutationFn: async ({ ids, to }: { ids: number[]; to: Status }) => {
      // no bulk route: one PATCH per product, the failures reported together
      const results = await Promise.allSettled(ids.map((id) => mall.call(mall.api.PATCH("/api/v1/products/{id}", { params: { path: { id } }, body: { status: to } }))));
      const failed = results.filter((r) => r.status === "rejected").length;
      if (failed) throw new Error(`${failed} of ${ids.length} products could not be changed`);
      return ids.length;
    },
    onSuccess: (n, v) => message.success(`${n} product(s) ${v.to === "ON_SALE" ? "on sale" : "taken off sale"}`),
    onError: (err) => message.error(describe(err)),
    onSettled: () => {
      setSelected([]);
      void qc.invalidateQueries({ queryKey: ["products"] });
      void qc.invalidateQueries({ queryKey: ["product"] });
    },
  });
  return (
    <>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search aria-label="Search products" placeholder="Search title" allowClear onSearch={(v) => { setQ(v); setPage(1); }} style={{ width: 260 }} />
        <Select aria-label="Status filter" allowClear placeholder="Any status" value={status} onChange={(v) => { setStatus(v); setPage(1); }} style={{ width: 150 }} options={[{ value: "ON_SALE", label: "On sale" }, { value: "OFF_SALE", label: "Off sale" }]} />
        <Button disabled={!selected.length} loading={setStatuses.isPending} onClick={() => setStatuses.mutate({ ids: selected, to: "ON_SALE" })}>
          Put on sale ({selected.length})
        </Button>
        <Button disabled={!selected.length} loading={setStatuses.isPending} onClick={() => setStatuses.mutate({ ids: selected, to: "OFF_SALE" })}>
          Take off sale ({selected.length})
        </Button>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          New product
        </Button>
      </Flex>
      <Table
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        rowSelection={{ selectedRowKeys: selected, onChange: (k) => setSelected(k as number[]) }}
        pagination={{ current: page, pageSize: 20, total: list.data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: "", dataIndex: "imageUrl", width: 64, render: (u: string | null) => (u ? <img src={u} alt="" width={48} height={48} style={{ objectFit: "cover" }} /> : null) },
          { title: "ID", dataIndex: "id", width: 70 },
          { title: "Title", dataIndex: "title" },
          { title: "Price", render: (_: unknown, p) => (p.minPrice === p.maxPrice ? money(p.minPrice, p.currency) : `${money(p.minPrice, p.currency)} – ${money(p.maxPrice, p.currency)}`) },
          { title: "Sales", dataIndex: "sales", align: "right" },
          { title: "Status", dataIndex: "status", render: (s: Status) => <Tag color={TAG[s === "ON_SALE" ? "green" : "default"]}>{s === "ON_SALE" ? "On sale" : "Off sale"}</Tag> },
          {
            title: "",
            render: (_: unknown, p) => (
              <Space>
                <Button size="small" aria-label={`Edit ${p.title}`} onClick={() => setEditing(p.id)}>
                  Edit
                </Button>
                <Button size="small" onClick={() => setStatuses.mutate({ ids: [p.id], to: p.status === "ON_SALE" ? "OFF_SALE" : "ON_SALE" })}>
                  {p.status === "ON_SALE" ? "Take off sale" : "Put on sale"}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      <NewProduct open={creating} onClose={() => setCreating(false)} />
      <EditProduct id={editing} onClose={() => setEditing(null)} />
    </>
  );
}

interface SkuRow {
  skuCode: string;
  attrs?: string;
  price: number;
  stock: number;
}
interface ProductForm {
  title: string;
  subtitle?: string;
  description?: string;
  categoryId: number;
  brandId?: number;
  status: Status;
  skus: SkuRow[];
}

function NewProduct({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<ProductForm>();
  const [images, setImages] = useState<UploadFile[]>([]);
  const [key] = useState(idempotencyKey);
  const create = useMutation({
    mutationFn: (v: ProductForm) =>
      mall.call(
        mall.api.POST("/api/v1/products", {
          headers: { "Idempotency-Key": key },
          body: {
            title: v.title,
            subtitle: v.subtitle,
            description: v.description,
            categoryId: v.categoryId,
            brandId: v.brandId,
            status: v.status,
            images: imageUrls(images),
            skus: v.skus.map((s) => ({ skuCode: s.skuCode, attrs: parseAttrs(s.attrs), price: toFen(s.price), stock: s.stock })),
          },
        }),
      ),
    onSuccess: (p) => {
      message.success(`Product ${p.id} created`);
      form.resetFields();
      setImages([]);
      void qc.invalidateQueries({ queryKey: ["products"] });
      onClose();
    },
    onError: (err) => message.error(describe(err)),
  });
  return (
    <Drawer title="New product" open={open} onClose={onClose} width={640} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ status: "ON_SALE", skus: [{ skuCode: "", attrs: "", price: 0, stock: 0 }] }}>
        <ProductFieldInputs images={images} setImages={setImages} />
        <Typography.Text strong>SKUs</Typography.Text>
        <Form.List name="skus">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" wrap>
                  <Form.Item name={[f.name, "skuCode"]} rules={[{ required: true, message: "SKU code" }]}>
                    <Input placeholder="SKU code" aria-label="SKU code" />
                  </Form.Item>
                  <Form.Item name={[f.name, "attrs"]}>
                    <Input placeholder="color=red, size=L" aria-label="SKU attributes" />
                  </Form.Item>
                  <Form.Item name={[f.name, "price"]} rules={[{ required: true, message: "Price" }]}>
                    <InputNumber min={0} step={0.01} precision={2} prefix="¥" placeholder="Price" aria-label="SKU price" />
                  </Form.Item>
                  <Form.Item name={[f.name, "stock"]}>
                    <InputNumber min={0} precision={0} placeholder="Stock" aria-label="SKU starting stock" />
                  </Form.Item>
                  {fields.length > 1 && <MinusCircleOutlined aria-label="Remove SKU" onClick={() => remove(f.name)} />}
                </Space>
              ))}
              <Button type="dashed" onClick={() => add({ skuCode: "", attrs: "", price: 0, stock: 0 })} icon={<PlusOutlined />}>
                Add SKU
              </Button>
            </>
          )}
        </Form.List>
        <Flex justify="end" style={{ marginTop: 24 }}>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            Create product
          </Button>
        </Flex>
      </Form>
    </Drawer>
  );
}

function Categories() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const categories = useCategories();
  const [name, setName] = useState("");
  const [parentId, setParentId] = useState<number | undefined>();
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["categories"] });
  const fail = (err: unknown) => message.error(describe(err));
  const add = useMutation({
    mutationFn: () => mall.call(mall.api.POST("/api/v1/categories", { headers: { "Idempotency-Key": idempotencyKey() }, body: { name, parentId } })),
    onSuccess: () => { setName(""); refresh(); },
    onError: fail,
  });
  const move = useMutation({
    mutationFn: ({ id, parentId: to }: { id: number; parentId: number | null }) => mall.call(mall.api.PATCH("/api/v1/categories/{id}", { params: { path: { id } }, body: { parentId: to } })),
    onSuccess: () => { message.success("Category moved"); refresh(); },
    onError: (err) => { fail(err); refresh(); },
  });
  const remove = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.DELETE("/api/v1/categories/{id}", { params: { path: { id } } })),
    onSuccess: refresh,
    onError: fail,
  });
  return (
    <Flex gap={24} wrap>
      <div style={{ minWidth: 320 }}>
        <Typography.Paragraph type="secondary">Drag a category onto another to move it under it, or into the gap at the top level.</Typography.Paragraph>
        <Tree
          draggable
          blockNode
          defaultExpandAll
          treeData={treeData(categories.data ?? []).map(function strip(n: TreeNode): { title: React.ReactNode; key: number; children: unknown[] } {
            return {
              key: n.key,
              title: (
                <Space>
                  {n.title}
                  <Button size="small" type="link" aria-label={`Rename ${n.title}`} onClick={() => setRenaming({ id: n.key, name: n.title })}>
                    rename
                  </Button>
                  <Popconfirm title="Delete this category?" onConfirm={() => remove.mutate(n.key)}>
                    <Button size="small" type="link" danger aria-label={`Delete ${n.title}`}>
                      delete
                    </Button>
                  </Popconfirm>
                </Space>
              ),
              children: n.children.map(strip),
            };
          }) as never}
          onDrop={(info) => {
            const id = Number(info.dragNode.key);
            const onto = Number(info.node.key);
            // dropped on a node: becomes its child; into a gap: a sibling of that node
            const parentOf = (nodes: Category[], target: number, parent: number | null): number | null | undefined => {
              for (const n of nodes) {
                if (n.id === target) return parent;
                const found = parentOf(n.children ?? [], target, n.id);
                if (found !== undefined) return found;
              }
              return undefined;
            };
            const to = info.dropToGap ? (parentOf(categories.data ?? [], onto, null) ?? null) : onto;
            move.mutate({ id, parentId: to });
          }}
        />
      </div>
      <Space direction="vertical">
        <Typography.Text strong>New category</Typography.Text>
        <Input aria-label="Category name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} />
        <TreeSelect aria-label="Parent category" allowClear placeholder="Parent (none: top level)" style={{ width: 240 }} treeData={treeData(categories.data ?? [])} value={parentId} onChange={setParentId} />
        <Button type="primary" disabled={!name.trim()} loading={add.isPending} onClick={() => add.mutate()}>
          Add category
        </Button>
      </Space>
      <RenameDialog
        what="category"
        target={renaming}
        onClose={() => setRenaming(null)}
        rename={async (id, to) => {
          await mall.call(mall.api.PATCH("/api/v1/categories/{id}", { params: { path: { id } }, body: { name: to } }));
          refresh();
        }}
      />
    </Flex>
  );
}

function Brands() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const brands = useBrands();
  const [name, setName] = useState("");
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["brands"] });
  const add = useMutation({
    mutationFn: () => mall.call(mall.api.POST("/api/v1/brands", { headers: { "Idempotency-Key": idempotencyKey() }, body: { name } })),
    onSuccess: () => { setName(""); refresh(); },
    onError: (err) => message.error(describe(err)),
  });
  const remove = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.DELETE("/api/v1/brands/{id}", { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (err) => message.error(describe(err)),
  });
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Input aria-label="Brand name" placeholder="Brand name" value={name} onChange={(e) => setName(e.target.value)} />
        <Button type="primary" disabled={!name.trim()} onClick={() => add.mutate()} loading={add.isPending}>
          Add brand
        </Button>
      </Space>
      <Table
        rowKey="id"
        loading={brands.isLoading}
        dataSource={brands.data ?? []}
        pagination={false}
        columns={[
          { title: "ID", dataIndex: "id", width: 80 },
          { title: "Name", dataIndex: "name" },
          {
            title: "",
            render: (_: unknown, b) => (
              <Space>
                <Button size="small" aria-label={`Rename ${b.name}`} onClick={() => setRenaming({ id: b.id, name: b.name })}>
                  Rename
                </Button>
                <Popconfirm title="Delete this brand?" onConfirm={() => remove.mutate(b.id)}>
                  <Button size="small" danger aria-label={`Delete ${b.name}`}>
                    Delete
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <RenameDialog
        what="brand"
        target={renaming}
        onClose={() => setRenaming(null)}
        rename={async (id, to) => {
          await mall.call(mall.api.PATCH("/api/v1/brands/{id}", { params: { path: { id } }, body: { name: to } }));
          refresh();
          // product pages show the brand's name
          void qc.invalidateQueries({ queryKey: ["product"] });
        }}
      />
    </>
  );
}

const TABS = ["products", "categories", "brands", "synonyms"];

export default function Catalog() {
  const [params, setParams] = useSearchParams();
  const tab = TABS.includes(params.get("tab") ?? "") ? params.get("tab")! : "products";
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        Catalog
      </Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === "products" ? {} : { tab: k })}
        items={[
          { key: "products", label: "Products", children: <Products /> },
          { key: "categories", label: "Categories", children: <Categories /> },
          { key: "brands", label: "Brands", children: <Brands /> },
          { key: "synonyms", label: "Search synonyms", children: <Synonyms /> },
        ]}
      />
    </>
  );
}
