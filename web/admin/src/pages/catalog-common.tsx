/**
 * What the catalog's pieces share: the category tree and brand list queries, SKU attribute
 * text ("color=red, size=L"), the product's own fields (new and edit drawers), the image list
 * with upload, a rename dialog, and putting a 422's field messages next to the form's fields.
 */
import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { App, Form, Input, Modal, Select, Space, TreeSelect, Upload, type FormInstance, type UploadFile } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import type { Schemas } from "../../../shared";
import { describe, isApiError, mall, uploadImage } from "../api";

type Category = Schemas["CategoryNode"];

export const useCategories = () => useQuery({ queryKey: ["categories"], queryFn: () => mall.call(mall.api.GET("/api/v1/categories")) });
export const useBrands = () => useQuery({ queryKey: ["brands"], queryFn: () => mall.call(mall.api.GET("/api/v1/brands")) });

export interface TreeNode {
  title: string;
  value: number;
  key: number;
  children: TreeNode[];
}
export const treeData = (nodes: Category[]): TreeNode[] =>
  nodes.map((n) => ({ title: n.name, value: n.id, key: n.id, children: treeData(n.children ?? []) }));

/** "color=red, size=L" → { color: "red", size: "L" } */
export const parseAttrs = (v = "") =>
  Object.fromEntries(
    v
      .split(",")
      .map((p) => p.split("=").map((x) => x.trim()))
      .filter(([k, val]) => k && val),
  ) as Record<string, string>;

/** { color: "red", size: "L" } → "color=red, size=L" */
export const formatAttrs = (a: Record<string, string> | undefined) =>
  Object.entries(a ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");

/** yuan in an input ↔ fen on the wire */
export const toFen = (yuan: number) => Math.round(yuan * 100);
export const toYuan = (fen: number) => fen / 100;

/** A 422's per-field messages shown under the form's own fields (the others stay in the toast). */
export function showFieldErrors(form: FormInstance, err: unknown, names: string[]) {
  if (!isApiError(err, "VALIDATION_ERROR")) return;
  const fields = Object.entries(err.fields).filter(([f]) => names.includes(f));
  form.setFields(fields.map(([name, errors]) => ({ name, errors: [errors] })));
}

export const imageFiles = (urls: string[]): UploadFile[] =>
  urls.map((url, i) => ({ uid: `existing-${i}-${url}`, name: url.split("/").pop() || url, status: "done", url, thumbUrl: url }));

/** The product's images: the ones it has, uploads added with a preview, any removed. */
export function ImagesField({ value, onChange }: { value: UploadFile[]; onChange: (update: (xs: UploadFile[]) => UploadFile[]) => void }) {
  const { message } = App.useApp();
  return (
    <Upload
      listType="picture-card"
      accept="image/png,image/jpeg,image/webp,image/gif"
      fileList={value}
      onRemove={(f) => onChange((xs) => xs.filter((x) => x.uid !== f.uid))}
      customRequest={async ({ file, onSuccess, onError }) => {
        const f = file as File & { uid: string };
        onChange((xs) => [...xs, { uid: f.uid, name: f.name, status: "uploading" }]);
        try {
          const url = await uploadImage(f);
          onChange((xs) => xs.map((x) => (x.uid === f.uid ? { ...x, status: "done", url, thumbUrl: url } : x)));
          onSuccess?.(url);
        } catch (err) {
          onChange((xs) => xs.map((x) => (x.uid === f.uid ? { ...x, status: "error" } : x)));
          message.error(`Upload failed: ${(err as Error).message}`);
          onError?.(err as Error);
        }
      }}
    >
      <button type="button" style={{ border: 0, background: "none" }} aria-label="Upload an image">
        <PlusOutlined />
        <div>Upload</div>
      </button>
    </Upload>
  );
}

/** The uploaded images' URLs in list order (uploads still running or failed are left out). */
export const imageUrls = (files: UploadFile[]) => files.filter((f) => f.status === "done").map((f) => f.url).filter((u): u is string => !!u);

/**
 * A dialog asking for a new name. `rename` does the call; the dialog closes when it succeeds
 * and stays open with the error said when it fails.
 */
export function RenameDialog({ target, what, rename, onClose }: { target: { id: number; name: string } | null; what: string; rename: (id: number, name: string) => Promise<unknown>; onClose: () => void }) {
  const { message } = App.useApp();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => setName(target?.name ?? ""), [target]);
  const submit = async () => {
    if (!target || !name.trim()) return;
    setBusy(true);
    try {
      await rename(target.id, name.trim());
      message.success(`Renamed to ${name.trim()}`);
      onClose();
    } catch (err) {
      message.error(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Rename ${what} “${target?.name ?? ""}”`}
      open={!!target}
      onCancel={onClose}
      onOk={() => void submit()}
      okText="Rename"
      okButtonProps={{ disabled: !name.trim() || name.trim() === target?.name, loading: busy }}
      destroyOnHidden
    >
      <Input aria-label="New name" maxLength={64} value={name} onChange={(e) => setName(e.target.value)} onPressEnter={() => void submit()} autoFocus />
    </Modal>
  );
}

/**
 * A product's own fields, the same in the "New product" and "Edit" drawers; the limits are the
 * server's (services/catalog: title 200, subtitle 300, description 20,000).
 */
export function ProductFieldInputs({ images, setImages }: { images: UploadFile[]; setImages: (update: (xs: UploadFile[]) => UploadFile[]) => void }) {
  const categories = useCategories();
  const brands = useBrands();
  return (
    <>
      <Form.Item label="Title" name="title" rules={[{ required: true, whitespace: true, message: "A title is required" }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item label="Subtitle" name="subtitle">
        <Input maxLength={300} />
      </Form.Item>
      <Form.Item label="Description" name="description">
        <Input.TextArea rows={4} maxLength={20_000} />
      </Form.Item>
      <Space wrap>
        <Form.Item label="Category" name="categoryId" rules={[{ required: true, message: "Pick a category" }]}>
          <TreeSelect style={{ width: 240 }} treeData={treeData(categories.data ?? [])} treeDefaultExpandAll placeholder="Category" />
        </Form.Item>
        <Form.Item label="Brand" name="brandId">
          <Select style={{ width: 200 }} allowClear placeholder="No brand" options={(brands.data ?? []).map((b) => ({ value: b.id, label: b.name }))} />
        </Form.Item>
        <Form.Item label="Status" name="status">
          <Select style={{ width: 140 }} options={[{ value: "ON_SALE", label: "On sale" }, { value: "OFF_SALE", label: "Off sale" }]} />
        </Form.Item>
      </Space>
      <Form.Item label="Images" extra="The first image is the product's picture in lists.">
        <ImagesField value={images} onChange={setImages} />
      </Form.Item>
    </>
  );
}
