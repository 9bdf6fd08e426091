/** zh-CN (default) and English; the choice is kept in localStorage and sets <html lang>. */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

const zh = {
  brand: "Mall 商城",
  skip: "跳到主要内容",
  nav: { home: "首页", search: "搜索", cart: "购物车", orders: "我的订单", account: "我的账户", coupons: "领券中心", login: "登录", register: "注册", logout: "退出", inbox: "消息", language: "语言", menu: "主导航" },
  search: { placeholder: "搜索商品，如 西红柿", button: "搜索", label: "搜索商品", results: "共 {{count}} 件商品", none: "没有找到相关商品", category: "分类", brand: "品牌", all: "全部", minPrice: "最低价（元）", maxPrice: "最高价（元）", sort: "排序", apply: "筛选", sorts: { relevance: "综合", sales: "销量", price_asc: "价格从低到高", price_desc: "价格从高到低", newest: "新品" }, filters: "筛选条件" },
  home: { promotions: "正在进行的优惠", flash: "限时秒杀", categories: "商品分类", popular: "热销商品", upcoming: "即将开始", active: "进行中", viewAll: "查看全部" },
  product: { price: "价格", choose: "选择规格", stock: { in: "有货", low: "仅剩 {{count}} 件", out: "暂时缺货", unknown: "库存未知" }, quantity: "数量", addToCart: "加入购物车", buyNow: "立即购买", added: "已加入购物车", reviews: "商品评价（{{count}}）", noReviews: "暂无评价", rating: "评分 {{rating}} / 5", sales: "已售 {{count}}", offSale: "该商品已下架", loginToBuy: "请先登录再购买", decrease: "减少数量", increase: "增加数量" },
  cart: { title: "购物车", empty: "购物车是空的", goShopping: "去逛逛", select: "选择", selectAll: "全选", remove: "删除", quantity: "数量", subtotal: "小计", itemsTotal: "商品金额", discount: "优惠", payable: "应付", checkout: "去结算（{{count}}）", problems: { OFF_SALE: "已下架", UNAVAILABLE: "已失效", SHORT: "库存不足，仅剩 {{count}} 件" }, fix: "请先处理标记的商品" },
  checkout: { title: "确认订单", offers: "优惠券与积分", address: "收货地址", addAddress: "新增收货地址", coupon: "优惠券", noCoupon: "不使用优惠券", points: "积分抵扣", pointsBalance: "可用积分 {{count}}（100 积分 = 1 元，最多抵扣一半）", usePoints: "使用积分", remark: "订单备注", summary: "价格明细", itemsTotal: "商品金额", promotion: "促销优惠", couponDiscount: "优惠券", discount: "优惠合计", pointsDeduction: "积分抵扣", shipping: "运费", payable: "实付款", submit: "提交订单", submitting: "正在提交…", needAddress: "请选择收货地址", items: "商品清单", free: "免运费" },
  address: { name: "收货人", mobile: "手机号", province: "省", city: "市", district: "区/县", detail: "详细地址", isDefault: "设为默认地址", save: "保存地址", default: "默认", edit: "编辑", remove: "删除", cancel: "取消" },
  pay: { title: "支付订单", amount: "应付金额", channel: "支付方式", sandbox: "沙箱支付（演示）", wallet: "钱包余额（{{balance}}）", payNow: "立即支付", sandboxPage: "沙箱收银台", sandboxHint: "这是演示用的支付页面，不会产生真实扣款。", succeed: "确认付款", fail: "模拟支付失败", waiting: "正在确认支付结果…", paid: "支付成功", failed: "支付失败，请重试", expiresAt: "请在 {{time}} 前完成支付" },
  orders: { title: "我的订单", none: "还没有订单", all: "全部", detail: "订单详情", orderNo: "订单号", createdAt: "下单时间", items: "商品", total: "实付款", timeline: "订单进度", pay: "去支付", cancel: "取消订单", cancelConfirm: "确定取消这个订单吗？", confirm: "确认收货", refund: "申请退款", refundReason: "退款原因", refundSubmit: "提交退款申请", refunds: "售后记录", review: "评价", reviewContent: "评价内容", reviewSubmit: "提交评价", reviewed: "感谢您的评价", address: "收货信息", shipment: "物流：{{carrier}} {{trackingNo}}", seckill: "秒杀订单" },
  status: { PENDING_PAYMENT: "待付款", PAID: "已付款", SHIPPED: "已发货", COMPLETED: "已完成", CANCELLED: "已取消", REFUNDING: "退款中", REFUNDED: "已退款", REQUESTED: "已申请", APPROVED: "已同意", REJECTED: "已拒绝", PENDING: "处理中", SUCCEEDED: "成功", FAILED: "失败", UNUSED: "未使用", LOCKED: "使用中", USED: "已使用", EXPIRED: "已过期" },
  account: { title: "我的账户", profile: "个人资料", password: "修改密码", addresses: "收货地址", wallet: "我的钱包", points: "我的积分", coupons: "我的优惠券", inbox: "消息中心", nickname: "昵称", email: "邮箱", mobile: "手机号", save: "保存", saved: "已保存", oldPassword: "当前密码", newPassword: "新密码（8–72 位）", changed: "密码已修改", balance: "余额", ledger: "收支明细", noEntries: "暂无记录", markAllRead: "全部标为已读", noMessages: "暂无消息", unread: "未读", markRead: "标为已读", inboxUnavailable: "消息中心暂不可用，请稍后再试", viewOrder: "查看订单", viewDetails: "查看详情", locale: "消息语言", localeHint: "站内信、邮件和短信使用的语言" },
  coupons: { title: "领券中心", claim: "立即领取", claimed: "领取成功", remaining: "剩余 {{count}} 张", none: "暂无可领取的优惠券", threshold: "满 {{amount}} 可用", noThreshold: "无门槛", off: "立减 {{amount}}", percent: "{{rate}} 折", validTo: "有效期至 {{date}}", mine: "我的优惠券" },
  seckill: { title: "限时秒杀", startsIn: "距开始", endsIn: "距结束", ended: "已结束", remaining: "剩余 {{count}} 件", limit: "每人限购 {{count}} 件", buy: "立即抢购", queued: "排队中，请稍候…", success: "抢购成功！请尽快付款", failed: "很遗憾，未抢到", unavailable: "秒杀活动暂不可用", notFound: "秒杀活动不存在", address: "收货地址", none: "暂无秒杀活动", pay: "去付款", cancelled: "活动已取消", soldOut: "已抢光" },
  auth: { login: "登录", register: "注册", username: "用户名", usernameHint: "3–32 位字母、数字或下划线", password: "密码", passwordHint: "8–72 位", email: "邮箱", mobile: "手机号（选填）", noAccount: "还没有账号？", haveAccount: "已有账号？", expired: "登录已过期，请重新登录", welcome: "注册成功，欢迎！" },
  common: { loading: "加载中…", retry: "重试", prev: "上一页", next: "下一页", page: "第 {{page}} / {{pages}} 页", notFound: "页面不存在", backHome: "返回首页", close: "关闭", required: "必填", optional: "选填", submit: "提交", yes: "是", no: "否" },
};

type Dict = typeof zh;

const en: Dict = {
  brand: "Mall",
  skip: "Skip to main content",
  nav: { home: "Home", search: "Search", cart: "Cart", orders: "My orders", account: "My account", coupons: "Coupons", login: "Sign in", register: "Register", logout: "Sign out", inbox: "Messages", language: "Language", menu: "Main navigation" },
  search: { placeholder: "Search products, e.g. tomato", button: "Search", label: "Search products", results: "{{count}} products", none: "No products found", category: "Category", brand: "Brand", all: "All", minPrice: "Min price (¥)", maxPrice: "Max price (¥)", sort: "Sort by", apply: "Apply", sorts: { relevance: "Best match", sales: "Best selling", price_asc: "Price: low to high", price_desc: "Price: high to low", newest: "Newest" }, filters: "Filters" },
  home: { promotions: "Current offers", flash: "Flash sales", categories: "Categories", popular: "Popular products", upcoming: "Upcoming", active: "On now", viewAll: "View all" },
  product: { price: "Price", choose: "Choose an option", stock: { in: "In stock", low: "Only {{count}} left", out: "Out of stock", unknown: "Stock unknown" }, quantity: "Quantity", addToCart: "Add to cart", buyNow: "Buy now", added: "Added to your cart", reviews: "Reviews ({{count}})", noReviews: "No reviews yet", rating: "Rated {{rating}} / 5", sales: "{{count}} sold", offSale: "This product is no longer on sale", loginToBuy: "Please sign in to buy", decrease: "Decrease quantity", increase: "Increase quantity" },
  cart: { title: "Cart", empty: "Your cart is empty", goShopping: "Start shopping", select: "Select", selectAll: "Select all", remove: "Remove", quantity: "Quantity", subtotal: "Subtotal", itemsTotal: "Items", discount: "Discount", payable: "To pay", checkout: "Check out ({{count}})", problems: { OFF_SALE: "No longer on sale", UNAVAILABLE: "Unavailable", SHORT: "Only {{count}} left" }, fix: "Please deal with the flagged items first" },
  checkout: { title: "Checkout", offers: "Coupons and points", address: "Delivery address", addAddress: "Add an address", coupon: "Coupon", noCoupon: "No coupon", points: "Points", pointsBalance: "{{count}} points available (100 points = ¥1, up to half the price)", usePoints: "Points to use", remark: "Note to the seller", summary: "Price details", itemsTotal: "Items", promotion: "Promotions", couponDiscount: "Coupon", discount: "Total discount", pointsDeduction: "Points", shipping: "Shipping", payable: "Total to pay", submit: "Place order", submitting: "Placing your order…", needAddress: "Please choose a delivery address", items: "Items", free: "Free" },
  address: { name: "Recipient", mobile: "Mobile", province: "Province", city: "City", district: "District", detail: "Street address", isDefault: "Make this my default", save: "Save address", default: "Default", edit: "Edit", remove: "Delete", cancel: "Cancel" },
  pay: { title: "Pay for your order", amount: "Amount due", channel: "Payment method", sandbox: "Sandbox (demo)", wallet: "Wallet ({{balance}})", payNow: "Pay now", sandboxPage: "Sandbox checkout", sandboxHint: "A demo payment page: no real money moves.", succeed: "Confirm payment", fail: "Simulate a failure", waiting: "Confirming your payment…", paid: "Payment successful", failed: "Payment failed, please try again", expiresAt: "Please pay before {{time}}" },
  orders: { title: "My orders", none: "No orders yet", all: "All", detail: "Order details", orderNo: "Order no.", createdAt: "Placed", items: "Items", total: "Total paid", timeline: "Progress", pay: "Pay now", cancel: "Cancel order", cancelConfirm: "Cancel this order?", confirm: "Confirm receipt", refund: "Request a refund", refundReason: "Reason for the refund", refundSubmit: "Submit refund request", refunds: "After-sales", review: "Review", reviewContent: "Your review", reviewSubmit: "Submit review", reviewed: "Thanks for your review", address: "Delivery", shipment: "Shipped: {{carrier}} {{trackingNo}}", seckill: "Flash-sale order" },
  status: { PENDING_PAYMENT: "Awaiting payment", PAID: "Paid", SHIPPED: "Shipped", COMPLETED: "Completed", CANCELLED: "Cancelled", REFUNDING: "Refunding", REFUNDED: "Refunded", REQUESTED: "Requested", APPROVED: "Approved", REJECTED: "Rejected", PENDING: "Processing", SUCCEEDED: "Succeeded", FAILED: "Failed", UNUSED: "Unused", LOCKED: "In use", USED: "Used", EXPIRED: "Expired" },
  account: { title: "My account", profile: "Profile", password: "Password", addresses: "Addresses", wallet: "Wallet", points: "Points", coupons: "My coupons", inbox: "Messages", nickname: "Nickname", email: "Email", mobile: "Mobile", save: "Save", saved: "Saved", oldPassword: "Current password", newPassword: "New password (8–72 characters)", changed: "Password changed", balance: "Balance", ledger: "History", noEntries: "Nothing yet", markAllRead: "Mark all as read", noMessages: "No messages", unread: "Unread", markRead: "Mark as read", inboxUnavailable: "Messages are not available right now. Please try again later.", viewOrder: "View order", viewDetails: "View details", locale: "Message language", localeHint: "The language of your inbox messages, emails and texts" },
  coupons: { title: "Coupon centre", claim: "Claim", claimed: "Claimed", remaining: "{{count}} left", none: "No coupons to claim right now", threshold: "On orders over {{amount}}", noThreshold: "No minimum", off: "{{amount}} off", percent: "{{rate}}% off", validTo: "Valid until {{date}}", mine: "My coupons" },
  seckill: { title: "Flash sale", startsIn: "Starts in", endsIn: "Ends in", ended: "Ended", remaining: "{{count}} left", limit: "Limit {{count}} per person", buy: "Buy now", queued: "You're in the queue…", success: "Got it! Please pay soon", failed: "Sorry, you missed this one", unavailable: "Flash sales are not available right now", notFound: "This flash sale doesn't exist", address: "Delivery address", none: "No flash sales right now", pay: "Pay now", cancelled: "This sale was cancelled", soldOut: "Sold out" },
  auth: { login: "Sign in", register: "Create account", username: "Username", usernameHint: "3–32 letters, digits or _", password: "Password", passwordHint: "8–72 characters", email: "Email", mobile: "Mobile (optional)", noAccount: "New here?", haveAccount: "Already have an account?", expired: "Your session expired. Please sign in again.", welcome: "Welcome! Your account is ready." },
  common: { loading: "Loading…", retry: "Try again", prev: "Previous", next: "Next", page: "Page {{page}} of {{pages}}", notFound: "Page not found", backHome: "Back to home", close: "Close", required: "required", optional: "optional", submit: "Submit", yes: "Yes", no: "No" },
};

const LANG_KEY = "mall.lang";
const saved = (() => {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
})();

void i18n.use(initReactI18next).init({
  resources: { "zh-CN": { translation: zh }, en: { translation: en } },
  lng: saved === "en" ? "en" : "zh-CN",
  fallbackLng: "zh-CN",
  interpolation: { escapeValue: false },
});
document.documentElement.lang = i18n.language;
i18n.on("languageChanged", (lng) => {
  document.documentElement.lang = lng;
  try {
    localStorage.setItem(LANG_KEY, lng);
  } catch {
    /* private mode */
  }
});

export default i18n;
