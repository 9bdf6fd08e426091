/**
 * Database access for a domain service: moleculer-db with the Sequelize adapter, bound to the
 * node's shared Sequelize instance for this service's database URL (`<SERVICE>_DATABASE_URL` or
 * `DATABASE_URL`). Schema changes come from migrations, never from `sync()`.
 *
 * The mixin gives the service:
 *   this.sequelize   the shared instance
 *   this.models      the models returned by `define(sequelize)`
 *   this.tx(fn)      a transaction (serialised on SQLite, InnoDB on MySQL)
 *
 * moleculer-db's generic CRUD actions are switched off: every action a service exposes is
 * written on purpose, with its own params and auth.
 */
import type { Service, ServiceSchema } from "moleculer";
import type { ModelStatic, Model, Sequelize, Transaction } from "sequelize";
import MoleculerDb from "moleculer-db";
import SequelizeAdapter from "moleculer-db-adapter-sequelize";
import { configOf, serviceDatabaseUrl } from "../services/shared/config";
import { acquireSequelize, releaseSequelize, withTransaction } from "../services/shared/db";

/** The adapter borrows the shared instance instead of opening (and later closing) its own. */
class SharedSequelizeAdapter extends (SequelizeAdapter as unknown as new (...a: unknown[]) => {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  opts: unknown[];
  service: { sequelize: Sequelize };
}) {
  override connect() {
    this.opts = [this.service.sequelize];
    return super.connect();
  }
  override async disconnect() {
    /* the service releases its reference in stopped() */
  }
}

export interface DbMixinOptions<M extends Record<string, ModelStatic<Model>>> {
  /** database name key: `<SERVICE>_DATABASE_URL`; defaults to the service name */
  service: string;
  /** define this service's models on the shared instance */
  define: (sequelize: Sequelize) => M;
  /** which of the models moleculer-db's adapter manages */
  primary: keyof M;
}

export interface DbService<M> {
  sequelize: Sequelize;
  models: M;
  databaseUrl: string;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
}

export function DbMixin<M extends Record<string, ModelStatic<Model>>>(opts: DbMixinOptions<M>): ServiceSchema {
  const disabled = ["find", "count", "list", "create", "insert", "get", "update", "remove"];
  return {
    name: opts.service,
    mixins: [MoleculerDb as unknown as ServiceSchema],
    actions: Object.fromEntries(disabled.map((a) => [a, false])) as never,
    settings: { idField: "id" },
    merged(schema: ServiceSchema) {
      // merged() runs on the merged schema before created(): the adapter is built per service
      // instance here, so mergeSchemas' deep clone never copies a live connection.
      schema.adapter = new SharedSequelizeAdapter();
      // placeholder so moleculer-db's created() accepts the schema; the real model is bound below
      schema.model = { name: opts.service };
    },
    created(this: Service & DbService<M>) {
      this.databaseUrl = serviceDatabaseUrl(configOf(this), opts.service);
      this.sequelize = acquireSequelize(this.databaseUrl);
      this.models = opts.define(this.sequelize);
      (this.schema as ServiceSchema).model = this.models[opts.primary];
    },
    methods: {
      tx<T>(this: DbService<M>, fn: (t: Transaction) => Promise<T>): Promise<T> {
        return withTransaction(this.sequelize, fn);
      },
    },
    async stopped(this: DbService<M>) {
      await releaseSequelize(this.databaseUrl);
    },
  } as unknown as ServiceSchema;
}
