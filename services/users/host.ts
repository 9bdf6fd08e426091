/** What the users service's modules (sessions, addresses, admin, account store) need from it. */
import type { ServiceBroker } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import type { UserModels } from "../../models/users";
import type { MallConfig } from "../shared/config";
import type { KvStore } from "../shared/kv";

export interface UsersHost {
  cfg: MallConfig;
  kv: KvStore;
  models: UserModels;
  sequelize: Sequelize;
  /** DbMixin: this service's database (named locks are taken there) */
  databaseUrl: string;
  broker: ServiceBroker;
  logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void };
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

export const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
