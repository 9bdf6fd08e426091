/**
 * Wallet moves: one conditional UPDATE of the balance plus one ledger row, in one transaction,
 * applied at most once per reference. The balance can never go negative: the debit's
 * `WHERE balance >= amount` decides, not a value read earlier. A reference seen before returns
 * the original result (and a different amount under the same reference is a conflict).
 */
import { Op, Sequelize, Transaction } from "sequelize";
import { isUniqueViolation } from "../shared/db";
import { bizError } from "../shared/errors";
import type { UserModels } from "../../models/users";
import type { WalletEntryDto, WalletMoveParams, WalletMoveResult } from "./users.contracts";

const iso = (d: Date | string) => new Date(d).toISOString();

export function entryDto(e: { id: number; amount: number; balanceAfter: number; type: "CREDIT" | "DEBIT"; reason: string; reference: string | null; createdAt: Date }): WalletEntryDto {
  return {
    id: Number(e.id),
    amount: Number(e.amount),
    balanceAfter: Number(e.balanceAfter),
    type: e.type,
    reason: e.reason,
    reference: e.reference,
    createdAt: iso(e.createdAt),
  };
}


interface WalletHost {
  models: UserModels;
  sequelize: Sequelize;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
}

async function existing(svc: WalletHost, type: "CREDIT" | "DEBIT", p: WalletMoveParams, transaction?: Transaction): Promise<WalletMoveResult | null> {
  const prior = await svc.models.WalletEntry.findOne({ where: { reference: p.reference }, transaction });
  if (!prior) return null;
  const signed = type === "DEBIT" ? -p.amount : p.amount;
  if (Number(prior.userId) !== p.userId || Number(prior.amount) !== signed) {
    throw bizError("WALLET_REFERENCE_CONFLICT", undefined, { reference: p.reference });
  }
  const w = await svc.models.Wallet.findByPk(p.userId, { transaction });
  return { userId: p.userId, balance: Number(w?.balance ?? 0), currency: w?.currency ?? "CNY", entry: entryDto(prior), applied: false };
}

/**
 * Apply a wallet move once per reference. No look-up first: the ledger's unique reference
 * decides — a repeat's INSERT fails, its transaction (the balance change with it) rolls back,
 * and the first move's result is answered. A repeat that finds the balance short looks for the
 * first move before refusing, so a repeated debit never turns into INSUFFICIENT_BALANCE.
 */
export async function walletMove(svc: WalletHost, type: "CREDIT" | "DEBIT", p: WalletMoveParams): Promise<WalletMoveResult> {
  try {
    return await svc.tx(async (t) => {
      const { Wallet, WalletEntry } = svc.models;
      const delta = type === "DEBIT" ? -p.amount : p.amount;
      const where = type === "DEBIT" ? { userId: p.userId, balance: { [Op.gte]: p.amount } } : { userId: p.userId };
      const [changed] = await Wallet.update({ balance: Sequelize.literal(`balance + ${svc.sequelize.escape(delta)}`) }, { where, transaction: t });
      if (changed !== 1) {
        const seen = await existing(svc, type, p, t);
        if (seen) return seen;
        const w = await Wallet.findByPk(p.userId, { transaction: t });
        if (!w) throw bizError("USER_NOT_FOUND");
        throw bizError("INSUFFICIENT_BALANCE", undefined, { balance: Number(w.balance), requested: p.amount });
      }
      const w = await Wallet.findByPk(p.userId, { transaction: t });
      const entry = await WalletEntry.create(
        { userId: p.userId, amount: delta, balanceAfter: Number(w!.balance), type, reason: p.reason, reference: p.reference },
        { transaction: t },
      );
      return { userId: p.userId, balance: Number(w!.balance), currency: w!.currency, entry: entryDto(entry), applied: true };
    });
  } catch (err) {
    // a concurrent call with the same reference won: its transaction stands, ours rolled back
    if (isUniqueViolation(err)) {
      const won = await existing(svc, type, p);
      if (won) return won;
    }
    throw err;
  }
}

/** The wallet's balance and one page of its ledger, newest first. */
export async function walletPage(svc: WalletHost, userId: number, page: number, pageSize: number) {
  const w = await svc.models.Wallet.findByPk(userId);
  const { rows, count } = await svc.models.WalletEntry.findAndCountAll({ where: { userId }, order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize });
  return { balance: w ? Number(w.balance) : 0, currency: w?.currency ?? "CNY", entries: rows.map(entryDto), total: count, page, pageSize };
}
