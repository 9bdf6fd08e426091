/**
 * Catalog models: categories (a tree), brands, products (SPU), SKUs, the search term index,
 * reviews and uploaded files. Money columns are BIGINT fen; JSON columns are TEXT (both
 * dialects) and are (de)serialised by the getters below.
 */
import { DataTypes, Model, ModelStatic, Sequelize } from "sequelize";
import { jsonColumn } from "./helpers";


/** BIGINT columns come back as numbers (mysql2 supportBigNumbers with small values, sqlite ints). */
function bigint(column: string, allowNull = false, defaultValue?: number) {
  return {
    type: DataTypes.BIGINT,
    allowNull,
    ...(defaultValue === undefined ? {} : { defaultValue }),
    get(this: Model) {
      const v = this.getDataValue(column) as number | string | null;
      return v === null || v === undefined ? v : Number(v);
    },
  };
}

export interface CategoryAttrs {
  id: number;
  name: string;
  parentId: number | null;
  sort: number;
}
export interface BrandAttrs {
  id: number;
  name: string;
  logoUrl: string | null;
}
export interface ProductAttrs {
  id: number;
  title: string;
  subtitle: string;
  description: string;
  categoryId: number;
  brandId: number | null;
  /** DELETED only together with deleted_at: keeps deleted rows out of every status index scan */
  status: "ON_SALE" | "OFF_SALE" | "DELETED";
  images: string[];
  minPrice: number;
  maxPrice: number;
  currency: string;
  sales: number;
  rating: number;
  reviewCount: number;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface SkuAttrs {
  id: number;
  productId: number;
  skuCode: string;
  attrs: Record<string, string>;
  price: number;
  currency: string;
  imageUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type CategoryModel = Model<CategoryAttrs, Partial<CategoryAttrs>> & CategoryAttrs;
export type BrandModel = Model<BrandAttrs, Partial<BrandAttrs>> & BrandAttrs;
export type ProductModel = Model<ProductAttrs, Partial<ProductAttrs>> & ProductAttrs;
export type SkuModel = Model<SkuAttrs, Partial<SkuAttrs>> & SkuAttrs;
export interface SearchSynonymAttrs {
  id: number;
  words: string;
  createdAt: Date;
  updatedAt: Date;
}
export type SearchSynonymModel = Model<SearchSynonymAttrs, Partial<SearchSynonymAttrs>> & SearchSynonymAttrs;

export function defineCatalogModels(sequelize: Sequelize) {
  const Category = sequelize.define(
    "Category",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.STRING(64), allowNull: false },
      parentId: { type: DataTypes.INTEGER, allowNull: true },
      sort: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    },
    { tableName: "categories" },
  ) as unknown as ModelStatic<CategoryModel>;

  const Brand = sequelize.define(
    "Brand",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      logoUrl: { type: DataTypes.STRING(512), allowNull: true },
    },
    { tableName: "brands" },
  ) as unknown as ModelStatic<BrandModel>;

  const Product = sequelize.define(
    "Product",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      title: { type: DataTypes.STRING(200), allowNull: false },
      subtitle: { type: DataTypes.STRING(300), allowNull: false, defaultValue: "" },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: "" },
      categoryId: { type: DataTypes.INTEGER, allowNull: false },
      brandId: { type: DataTypes.INTEGER, allowNull: true },
      status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "ON_SALE" },
      images: jsonColumn("images", [], false),
      minPrice: bigint("minPrice", false, 0),
      maxPrice: bigint("maxPrice", false, 0),
      currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
      sales: bigint("sales", false, 0),
      rating: { type: DataTypes.DOUBLE, allowNull: false, defaultValue: 0 },
      reviewCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      deletedAt: { type: DataTypes.DATE, allowNull: true },
    },
    { tableName: "products" },
  ) as unknown as ModelStatic<ProductModel>;

  const Sku = sequelize.define(
    "Sku",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      productId: { type: DataTypes.INTEGER, allowNull: false },
      skuCode: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      attrs: jsonColumn("attrs", {}, false),
      price: bigint("price"),
      currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
      imageUrl: { type: DataTypes.STRING(512), allowNull: true },
    },
    { tableName: "skus" },
  ) as unknown as ModelStatic<SkuModel>;

  const Review = sequelize.define(
    "Review",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      productId: { type: DataTypes.INTEGER, allowNull: false },
      skuId: { type: DataTypes.INTEGER, allowNull: false },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      orderNo: { type: DataTypes.STRING(40), allowNull: false },
      rating: { type: DataTypes.INTEGER, allowNull: false },
      content: { type: DataTypes.TEXT, allowNull: false },
    },
    { tableName: "reviews" },
  );

  const Upload = sequelize.define(
    "Upload",
    {
      name: { type: DataTypes.STRING(64), primaryKey: true },
      contentType: { type: DataTypes.STRING(32), allowNull: false },
      size: { type: DataTypes.INTEGER, allowNull: false },
      uploadedBy: { type: DataTypes.INTEGER, allowNull: true },
    },
    { tableName: "uploads", updatedAt: false },
  );

  const SearchSynonym = sequelize.define(
    "SearchSynonym",
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      // a JSON array of normalised words
      words: { type: DataTypes.TEXT, allowNull: false },
    },
    { tableName: "search_synonyms" },
  ) as unknown as ModelStatic<SearchSynonymModel>;

  return { Category, Brand, Product, Sku, Review, Upload, SearchSynonym };
}

export type CatalogModels = ReturnType<typeof defineCatalogModels>;
