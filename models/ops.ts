/** Sequelize models of the ops service (tables created by migrations/0002-dead-letters.ts). */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, idType } from "./helpers";

export interface DeadLetterAttrs {
  id: number;
  channel: string;
  groupName: string;
  eventId: string;
  payload: string;
  error: string | null;
  attempts: number;
  status: string;
  replays: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  replayedAt: Date | null;
}

export function defineOpsModels(sequelize: Sequelize) {
  const DeadLetter = sequelize.define<Row<DeadLetterAttrs>>(
    "DeadLetter",
    {
      id: { type: idType(sequelize), primaryKey: true, autoIncrement: true },
      channel: DataTypes.STRING,
      groupName: DataTypes.STRING,
      eventId: DataTypes.STRING,
      payload: DataTypes.TEXT,
      error: DataTypes.TEXT,
      attempts: DataTypes.INTEGER,
      status: DataTypes.STRING,
      replays: DataTypes.INTEGER,
      firstFailedAt: DataTypes.DATE,
      lastFailedAt: DataTypes.DATE,
      replayedAt: DataTypes.DATE,
    },
    { underscored: true, freezeTableName: true, tableName: "dead_letters", timestamps: false },
  ) as ModelStatic<Row<DeadLetterAttrs>>;
  return { DeadLetter };
}

export type OpsModels = ReturnType<typeof defineOpsModels>;
