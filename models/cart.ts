/**
 * Sequelize models of the cart's SQL store (migrations/0400-cart.ts; embedded shape). Quantity
 * changes go through conditional UPDATEs in services/cart/cart-store.ts.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, idType } from "./helpers";

export interface CartAttrs {
  userId: number;
  createdAt: Date;
  updatedAt: Date;
}
export interface CartLineAttrs {
  userId: number;
  skuId: number;
  quantity: number;
  selected: boolean;
  addedAt: Date;
  updatedAt: Date;
}

export function defineCartModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const Cart = sequelize.define<Row<CartAttrs>>(
    "Cart",
    { userId: { type: id, primaryKey: true }, createdAt: DataTypes.DATE, updatedAt: DataTypes.DATE },
    { ...opts, tableName: "carts" },
  ) as ModelStatic<Row<CartAttrs>>;
  const CartLine = sequelize.define<Row<CartLineAttrs>>(
    "CartLine",
    {
      userId: { type: id, primaryKey: true },
      skuId: { type: id, primaryKey: true },
      quantity: DataTypes.INTEGER,
      selected: DataTypes.BOOLEAN,
      addedAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "cart_lines", createdAt: false },
  ) as ModelStatic<Row<CartLineAttrs>>;
  return { Cart, CartLine };
}
export type CartModels = ReturnType<typeof defineCartModels>;
