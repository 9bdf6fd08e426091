import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../../../shared";
import { api, call } from "../api";
import { ErrorNote, Field } from "../ui";

const EMPTY = { name: "", mobile: "", province: "", city: "", district: "", detail: "", isDefault: false };

/** Add (no `address`) or edit an address; the address list query is refreshed on save. */
export function AddressForm({ address, onDone, onCancel }: { address?: Schemas["Address"]; onDone: (a: Schemas["Address"]) => void; onCancel?: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [form, setForm] = useState(address ? { name: address.name, mobile: address.mobile, province: address.province, city: address.city, district: address.district, detail: address.detail, isDefault: address.isDefault } : EMPTY);
  const save = useMutation({
    mutationFn: () =>
      address
        ? call(api.PATCH("/api/v1/users/me/addresses/{id}", { params: { path: { id: address.id } }, body: form }))
        : call(api.POST("/api/v1/users/me/addresses", { body: form })),
    onSuccess: async (a) => {
      await qc.invalidateQueries({ queryKey: ["addresses"] });
      onDone(a);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const input = (k: Exclude<keyof typeof EMPTY, "isDefault">, extra: Record<string, unknown> = {}) => (
    <Field id={`addr-${k}`} label={t(`address.${k}`)}>
      <input id={`addr-${k}`} name={k} required value={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.value })} {...extra} />
    </Field>
  );
  return (
    <form className="card stack-sm address-form" onSubmit={submit} aria-label={t("checkout.addAddress")}>
      <div className="form-grid">
        {input("name", { autoComplete: "name" })}
        {input("mobile", { type: "tel", autoComplete: "tel" })}
        {input("province", { autoComplete: "address-level1" })}
        {input("city", { autoComplete: "address-level2" })}
        {input("district", { autoComplete: "address-level3" })}
        {input("detail", { autoComplete: "street-address" })}
      </div>
      <label className="row">
        <input type="checkbox" checked={form.isDefault} onChange={(e) => setForm({ ...form, isDefault: e.target.checked })} /> {t("address.isDefault")}
      </label>
      <ErrorNote error={save.error} />
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          {t("address.save")}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            {t("address.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}

export function addressLine(a: { name: string; mobile: string; province: string; city: string; district: string; detail: string }) {
  return `${a.name} ${a.mobile} · ${a.province} ${a.city} ${a.district} ${a.detail}`;
}
