/**
 * A user's addresses: at most MAX_ADDRESSES, and exactly one default while any exist. Writes for
 * one user are serialised (lockUser), so concurrent creates cannot pass the limit or leave two
 * defaults.
 */
import { Op, Transaction } from "sequelize";
import type { AddressAttrs } from "../../models/users";
import { bizError } from "../shared/errors";
import { lockUser } from "./account-store";
import { MAX_ADDRESSES, nextDefault } from "./domain/accounts";
import { UsersHost, iso } from "./host";
import type { AddressDto } from "./users.contracts";

export type AddressFields = Record<string, string>;

export function addressDto(a: AddressAttrs): AddressDto {
  return {
    id: Number(a.id),
    name: a.name,
    mobile: a.mobile,
    province: a.province,
    city: a.city,
    district: a.district,
    detail: a.detail,
    isDefault: !!a.isDefault,
    createdAt: iso(a.createdAt)!,
    updatedAt: iso(a.updatedAt)!,
  };
}

const brief = (a: AddressAttrs) => ({ id: Number(a.id), isDefault: a.isDefault, createdAt: a.createdAt });

export async function listAddresses(host: UsersHost, userId: number) {
  const rows = await host.models.Address.findAll({
    where: { userId },
    order: [
      ["isDefault", "DESC"],
      ["id", "DESC"],
    ],
  });
  return rows.map(addressDto);
}

export async function createAddress(host: UsersHost, userId: number, fields: AddressFields, isDefault?: boolean) {
  const created = await host.tx(async (t) => {
    await lockUser(host, userId, t);
    const { Address } = host.models;
    const existing = await Address.findAll({ where: { userId }, transaction: t });
    if (existing.length >= MAX_ADDRESSES) throw bizError("ADDRESS_LIMIT_REACHED");
    const row = await Address.create({ ...fields, userId, isDefault: false }, { transaction: t });
    const def = nextDefault([...existing.map(brief), brief(row)], { markDefault: isDefault || existing.length === 0 ? Number(row.id) : undefined });
    await setDefault(host, userId, def, t);
    return Number(row.id);
  });
  return addressDto((await host.models.Address.findByPk(created))!);
}

export async function updateAddress(host: UsersHost, userId: number, id: number, fields: AddressFields, isDefault?: boolean) {
  await host.tx(async (t) => {
    await lockUser(host, userId, t);
    const { Address } = host.models;
    const all = await Address.findAll({ where: { userId }, transaction: t });
    if (!all.some((a) => Number(a.id) === id)) throw bizError("ADDRESS_NOT_FOUND");
    if (Object.keys(fields).length) await Address.update(fields, { where: { id, userId }, transaction: t });
    if (isDefault === true) await setDefault(host, userId, id, t);
    else if (isDefault === false) {
      // unmarking the default hands it to the newest other address, if any
      const def = nextDefault(all.filter((a) => Number(a.id) !== id).map(brief), {});
      if (def !== null) await setDefault(host, userId, def, t);
    }
  });
  return addressDto((await host.models.Address.findByPk(id))!);
}

export async function deleteAddress(host: UsersHost, userId: number, id: number) {
  await host.tx(async (t) => {
    await lockUser(host, userId, t);
    const { Address } = host.models;
    const all = await Address.findAll({ where: { userId }, transaction: t });
    if (!all.some((a) => Number(a.id) === id)) throw bizError("ADDRESS_NOT_FOUND");
    await Address.destroy({ where: { id, userId }, transaction: t });
    await setDefault(host, userId, nextDefault(all.map(brief), { removed: id }), t);
  });
  return { deleted: true };
}

async function setDefault(host: UsersHost, userId: number, id: number | null, t: Transaction) {
  const { Address } = host.models;
  await Address.update({ isDefault: false }, { where: { userId, isDefault: true, ...(id !== null ? { id: { [Op.ne]: id } } : {}) }, transaction: t });
  if (id !== null) await Address.update({ isDefault: true }, { where: { userId, id }, transaction: t });
}
