/**
 * The demo catalog loaded on the first embedded start (SEED_DEMO, default on in the embedded
 * shape) and by `npm run seed`: a category tree, brands and 48 products with Chinese and English
 * names, SKUs priced in fen and starting stock. Brands are invented.
 */

export interface DemoCategory {
  key: string;
  name: string;
  parent?: string;
  sort?: number;
}

export interface DemoSku {
  code: string;
  attrs: Record<string, string>;
  price: number;
  stock: number;
}

export interface DemoProduct {
  title: string;
  subtitle: string;
  category: string;
  brand: string | null;
  sales: number;
  status?: "ON_SALE" | "OFF_SALE";
  skus: DemoSku[];
}

/** Marker recorded once the demo catalog is in, so it is never loaded twice. */
export const DEMO_SEED_MARKER = { consumer: "catalog.seed", id: "demo-catalog-v1" };

export const DEMO_CATEGORIES: DemoCategory[] = [
  { key: "fresh", name: "生鲜 Fresh Food", sort: 1 },
  { key: "veg", name: "蔬菜 Vegetables", parent: "fresh", sort: 1 },
  { key: "fruit", name: "水果 Fruit", parent: "fresh", sort: 2 },
  { key: "dairy", name: "乳品 Dairy", parent: "fresh", sort: 3 },
  { key: "digital", name: "数码 Electronics", sort: 2 },
  { key: "phones", name: "手机 Phones", parent: "digital", sort: 1 },
  { key: "audio", name: "耳机音箱 Audio", parent: "digital", sort: 2 },
  { key: "accessories", name: "配件 Accessories", parent: "digital", sort: 3 },
  { key: "apparel", name: "服饰 Apparel", sort: 3 },
  { key: "tops", name: "上衣 Tops", parent: "apparel", sort: 1 },
  { key: "shoes", name: "鞋靴 Shoes", parent: "apparel", sort: 2 },
  { key: "home", name: "家居 Home", sort: 4 },
  { key: "kitchen", name: "厨具 Kitchen", parent: "home", sort: 1 },
  { key: "books", name: "图书 Books", sort: 5 },
];

export const DEMO_BRANDS = ["绿野农场 GreenFarm", "天顶 Zenith", "声浪 SoundWave", "自由跑 RunFree", "北欧家居 Nordic Home", "墨香书局 InkBooks", "商城优选 Mall Select"];

const one = (code: string, price: number, stock: number, attrs: Record<string, string> = {}): DemoSku[] => [{ code, attrs, price, stock }];

export const DEMO_PRODUCTS: DemoProduct[] = [
  // vegetables
  { title: "新鲜西红柿 500g", subtitle: "当季自然成熟 沙瓤多汁", category: "veg", brand: "绿野农场 GreenFarm", sales: 1520, skus: [
    { code: "DEMO-TOMATO-500", attrs: { 规格: "500g" }, price: 690, stock: 300 },
    { code: "DEMO-TOMATO-1000", attrs: { 规格: "1kg" }, price: 1290, stock: 200 },
  ] },
  { title: "Organic Tomato Pack", subtitle: "Vine-ripened, grown without pesticides", category: "veg", brand: "绿野农场 GreenFarm", sales: 640, skus: one("DEMO-ORG-TOMATO", 1590, 150, { weight: "750g" }) },
  { title: "Cherry Tomatoes 250g", subtitle: "Sweet snacking tomatoes 圣女果", category: "veg", brand: "绿野农场 GreenFarm", sales: 880, skus: one("DEMO-CHERRY-TOM", 890, 220) },
  { title: "有机黄瓜 2根装", subtitle: "清脆爽口 凉拌首选", category: "veg", brand: "绿野农场 GreenFarm", sales: 410, skus: one("DEMO-CUCUMBER", 590, 180) },
  { title: "Baby Spinach 200g", subtitle: "Washed and ready to eat 菠菜", category: "veg", brand: "商城优选 Mall Select", sales: 260, skus: one("DEMO-SPINACH", 790, 90) },
  { title: "云南小土豆 2.5kg", subtitle: "黄心软糯 炖煮烧烤都好吃", category: "veg", brand: null, sales: 930, skus: one("DEMO-POTATO", 1990, 120) },
  { title: "Sweet Corn 4 Ears", subtitle: "Fresh picked 甜玉米", category: "veg", brand: "绿野农场 GreenFarm", sales: 350, skus: one("DEMO-CORN", 1290, 80) },
  // fruit
  { title: "烟台红富士苹果 5斤装", subtitle: "脆甜多汁 产地直发", category: "fruit", brand: "绿野农场 GreenFarm", sales: 2890, skus: [
    { code: "DEMO-APPLE-5", attrs: { 规格: "5斤", 果径: "75-80mm" }, price: 3990, stock: 400 },
    { code: "DEMO-APPLE-10", attrs: { 规格: "10斤", 果径: "80-85mm" }, price: 6990, stock: 150 },
  ] },
  { title: "Honeycrisp Apples 1kg", subtitle: "Crisp and juicy, imported", category: "fruit", brand: "商城优选 Mall Select", sales: 720, skus: one("DEMO-HONEYCRISP", 2490, 130) },
  { title: "海南金煌芒果 3kg", subtitle: "大果 香甜无丝", category: "fruit", brand: null, sales: 1340, skus: one("DEMO-MANGO", 5990, 90) },
  { title: "Bananas Bunch (approx. 1kg)", subtitle: "Ripe Cavendish bananas 香蕉", category: "fruit", brand: "商城优选 Mall Select", sales: 1980, skus: one("DEMO-BANANA", 990, 500) },
  { title: "智利车厘子 JJ级 1kg", subtitle: "Chile cherries, cold chain delivery", category: "fruit", brand: null, sales: 2210, skus: [
    { code: "DEMO-CHERRY-J", attrs: { 等级: "J" }, price: 8990, stock: 60 },
    { code: "DEMO-CHERRY-JJ", attrs: { 等级: "JJ" }, price: 11990, stock: 40 },
  ] },
  { title: "Blueberries 125g x 4", subtitle: "Antioxidant-rich 蓝莓", category: "fruit", brand: "绿野农场 GreenFarm", sales: 610, skus: one("DEMO-BLUEBERRY", 4590, 70) },
  // dairy
  { title: "全脂纯牛奶 250ml×24盒", subtitle: "优质奶源 早餐好搭档", category: "dairy", brand: "商城优选 Mall Select", sales: 3310, skus: one("DEMO-MILK-24", 6900, 260) },
  { title: "Greek Yogurt Plain 500g", subtitle: "High protein, no added sugar 希腊酸奶", category: "dairy", brand: "商城优选 Mall Select", sales: 470, skus: one("DEMO-YOGURT", 2290, 110) },
  { title: "Aged Cheddar Cheese 200g", subtitle: "Sharp and crumbly 切达奶酪", category: "dairy", brand: null, sales: 190, skus: one("DEMO-CHEDDAR", 3890, 45) },
  // phones
  { title: "天顶 Z1 5G 智能手机", subtitle: "6.7英寸 OLED 屏 120Hz 高刷", category: "phones", brand: "天顶 Zenith", sales: 860, skus: [
    { code: "DEMO-Z1-128-BLK", attrs: { 颜色: "曜石黑", 存储: "8+128GB" }, price: 299900, stock: 40 },
    { code: "DEMO-Z1-256-BLK", attrs: { 颜色: "曜石黑", 存储: "12+256GB" }, price: 339900, stock: 30 },
    { code: "DEMO-Z1-256-WHT", attrs: { 颜色: "月光白", 存储: "12+256GB" }, price: 339900, stock: 25 },
  ] },
  { title: "Zenith Z1 Pro Smartphone", subtitle: "Triple camera, 5000mAh battery 旗舰手机", category: "phones", brand: "天顶 Zenith", sales: 520, skus: [
    { code: "DEMO-Z1PRO-256", attrs: { colour: "Graphite", storage: "256GB" }, price: 479900, stock: 20 },
    { code: "DEMO-Z1PRO-512", attrs: { colour: "Graphite", storage: "512GB" }, price: 549900, stock: 15 },
  ] },
  { title: "天顶 Lite 老人手机", subtitle: "大字体 大音量 超长待机", category: "phones", brand: "天顶 Zenith", sales: 230, skus: one("DEMO-ZLITE", 39900, 60) },
  { title: "Zenith Fold Concept (preview)", subtitle: "Foldable display, not yet on sale", category: "phones", brand: "天顶 Zenith", sales: 0, status: "OFF_SALE", skus: one("DEMO-ZFOLD", 899900, 5) },
  // audio
  { title: "声浪 Air 真无线蓝牙耳机", subtitle: "主动降噪 30小时续航", category: "audio", brand: "声浪 SoundWave", sales: 1760, skus: [
    { code: "DEMO-AIR-WHT", attrs: { 颜色: "白色" }, price: 49900, stock: 120 },
    { code: "DEMO-AIR-BLK", attrs: { 颜色: "黑色" }, price: 49900, stock: 100 },
  ] },
  { title: "SoundWave Studio Headphones", subtitle: "Over-ear, hi-res audio 头戴式耳机", category: "audio", brand: "声浪 SoundWave", sales: 430, skus: one("DEMO-STUDIO", 129900, 35) },
  { title: "Portable Bluetooth Speaker", subtitle: "Waterproof IPX7 便携音箱", category: "audio", brand: "声浪 SoundWave", sales: 690, skus: [
    { code: "DEMO-SPK-BLUE", attrs: { colour: "Blue" }, price: 29900, stock: 80 },
    { code: "DEMO-SPK-RED", attrs: { colour: "Red" }, price: 29900, stock: 60 },
  ] },
  { title: "声浪 运动蓝牙耳机 挂耳式", subtitle: "Sports earbuds, sweat resistant", category: "audio", brand: "声浪 SoundWave", sales: 540, skus: one("DEMO-SPORT-EAR", 19900, 90) },
  // accessories
  { title: "65W 氮化镓快充充电器", subtitle: "GaN charger, USB-C x2 + USB-A", category: "accessories", brand: "天顶 Zenith", sales: 2450, skus: one("DEMO-GAN65", 14900, 300) },
  { title: "USB-C to USB-C Cable 2m", subtitle: "100W braided 数据线", category: "accessories", brand: "商城优选 Mall Select", sales: 3020, skus: [
    { code: "DEMO-CABLE-1M", attrs: { length: "1m" }, price: 2900, stock: 500 },
    { code: "DEMO-CABLE-2M", attrs: { length: "2m" }, price: 3900, stock: 400 },
  ] },
  { title: "手机壳 防摔透明款 适用天顶Z1", subtitle: "Clear shockproof phone case", category: "accessories", brand: "天顶 Zenith", sales: 1280, skus: one("DEMO-CASE-Z1", 3900, 350) },
  { title: "Power Bank 20000mAh", subtitle: "Fast charging 移动电源", category: "accessories", brand: "天顶 Zenith", sales: 970, skus: one("DEMO-POWERBANK", 15900, 140) },
  // tops
  { title: "纯棉圆领T恤 男款", subtitle: "100% cotton crew-neck T-shirt", category: "tops", brand: "商城优选 Mall Select", sales: 4100, skus: [
    { code: "DEMO-TEE-M-WHT", attrs: { 颜色: "白色", 尺码: "M" }, price: 5900, stock: 200 },
    { code: "DEMO-TEE-L-WHT", attrs: { 颜色: "白色", 尺码: "L" }, price: 5900, stock: 200 },
    { code: "DEMO-TEE-L-BLK", attrs: { 颜色: "黑色", 尺码: "L" }, price: 5900, stock: 150 },
    { code: "DEMO-TEE-XL-BLK", attrs: { 颜色: "黑色", 尺码: "XL" }, price: 5900, stock: 120 },
  ] },
  { title: "Merino Wool Sweater", subtitle: "Soft, breathable knit 羊毛衫", category: "tops", brand: null, sales: 380, skus: [
    { code: "DEMO-MERINO-S", attrs: { colour: "Navy", size: "S" }, price: 45900, stock: 30 },
    { code: "DEMO-MERINO-M", attrs: { colour: "Navy", size: "M" }, price: 45900, stock: 40 },
  ] },
  { title: "轻薄羽绒服 女款 连帽", subtitle: "Lightweight down jacket, packable", category: "tops", brand: "商城优选 Mall Select", sales: 1150, skus: [
    { code: "DEMO-DOWN-S-PINK", attrs: { 颜色: "樱花粉", 尺码: "S" }, price: 39900, stock: 50 },
    { code: "DEMO-DOWN-M-BLK", attrs: { 颜色: "黑色", 尺码: "M" }, price: 39900, stock: 60 },
  ] },
  { title: "Linen Button-Down Shirt", subtitle: "Relaxed fit summer shirt 亚麻衬衫", category: "tops", brand: null, sales: 270, skus: one("DEMO-LINEN-M", 25900, 45, { size: "M" }) },
  // shoes
  { title: "自由跑 Cloud 缓震跑步鞋", subtitle: "Cushioned running shoes", category: "shoes", brand: "自由跑 RunFree", sales: 1890, skus: [
    { code: "DEMO-CLOUD-40", attrs: { 尺码: "40" }, price: 59900, stock: 40 },
    { code: "DEMO-CLOUD-42", attrs: { 尺码: "42" }, price: 59900, stock: 50 },
    { code: "DEMO-CLOUD-44", attrs: { 尺码: "44" }, price: 59900, stock: 30 },
  ] },
  { title: "RunFree Trail Hiking Boots", subtitle: "Waterproof leather boots 登山靴", category: "shoes", brand: "自由跑 RunFree", sales: 310, skus: [
    { code: "DEMO-TRAIL-41", attrs: { size: "41" }, price: 89900, stock: 20 },
    { code: "DEMO-TRAIL-43", attrs: { size: "43" }, price: 89900, stock: 20 },
  ] },
  { title: "帆布鞋 经典低帮 小白鞋", subtitle: "Classic canvas sneakers", category: "shoes", brand: "自由跑 RunFree", sales: 2640, skus: one("DEMO-CANVAS-38", 12900, 160, { 尺码: "38" }) },
  // kitchen
  { title: "不粘炒锅 32cm 麦饭石", subtitle: "Non-stick wok, induction ready", category: "kitchen", brand: "北欧家居 Nordic Home", sales: 1420, skus: one("DEMO-WOK-32", 19900, 70) },
  { title: "Stainless Steel Chef Knife 8\"", subtitle: "German steel 主厨刀", category: "kitchen", brand: "北欧家居 Nordic Home", sales: 560, skus: one("DEMO-KNIFE", 29900, 55) },
  { title: "电热水壶 1.7L 304不锈钢", subtitle: "Electric kettle, auto shut-off", category: "kitchen", brand: "北欧家居 Nordic Home", sales: 1730, skus: one("DEMO-KETTLE", 9900, 130) },
  { title: "Ceramic Dinner Plates Set of 4", subtitle: "Matte glaze 陶瓷餐盘", category: "kitchen", brand: "北欧家居 Nordic Home", sales: 440, skus: [
    { code: "DEMO-PLATES-GRY", attrs: { colour: "Stone Grey" }, price: 16900, stock: 40 },
    { code: "DEMO-PLATES-WHT", attrs: { colour: "Chalk White" }, price: 16900, stock: 40 },
  ] },
  { title: "French Press Coffee Maker 1L", subtitle: "Borosilicate glass 法压壶", category: "kitchen", brand: "北欧家居 Nordic Home", sales: 390, skus: one("DEMO-FRENCHPRESS", 12900, 65) },
  // books
  { title: "三体（全三册）", subtitle: "刘慈欣 科幻经典 The Three-Body Problem", category: "books", brand: "墨香书局 InkBooks", sales: 5230, skus: one("DEMO-3BODY", 9300, 200) },
  { title: "The Pragmatic Programmer", subtitle: "20th anniversary edition 程序员修炼之道", category: "books", brand: "墨香书局 InkBooks", sales: 820, skus: one("DEMO-PRAGPROG", 8900, 80) },
  { title: "红楼梦 （精装典藏版）", subtitle: "曹雪芹 四大名著", category: "books", brand: "墨香书局 InkBooks", sales: 1660, skus: one("DEMO-HONGLOU", 12800, 90) },
  { title: "Designing Data-Intensive Applications", subtitle: "Reliable, scalable systems 数据密集型应用系统设计", category: "books", brand: "墨香书局 InkBooks", sales: 1110, skus: one("DEMO-DDIA", 12900, 70) },
  { title: "小王子 The Little Prince", subtitle: "中英双语 插图版", category: "books", brand: "墨香书局 InkBooks", sales: 2980, skus: one("DEMO-PRINCE", 3200, 240) },
  { title: "Chinese Cooking at Home", subtitle: "100 family recipes 家常菜谱", category: "books", brand: "墨香书局 InkBooks", sales: 350, skus: one("DEMO-COOKBOOK", 6800, 60) },
  { title: "围城", subtitle: "钱钟书 经典长篇小说", category: "books", brand: "墨香书局 InkBooks", sales: 1240, skus: one("DEMO-WEICHENG", 3900, 110) },
  { title: "Atomic Habits", subtitle: "Tiny changes, remarkable results 掌控习惯", category: "books", brand: "墨香书局 InkBooks", sales: 2100, skus: one("DEMO-HABITS", 5900, 150) },
];
