/**
 * API failures as a buyer (or an operator) reads them: the envelope's stable `type` mapped to a
 * sentence in zh-CN or English. Unknown types fall back to a sentence for the HTTP status, and
 * the server's own message is kept on the error for logs, never shown as the only text.
 */
export type Lang = "zh-CN" | "en";

export interface ErrorEnvelope {
  code: number;
  type: string;
  message: string;
  data?: unknown;
  traceId?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: number;
  readonly data: unknown;
  readonly traceId?: string;
  constructor(status: number, body: Partial<ErrorEnvelope> | null) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.type = body?.type ?? (status === 0 ? "NETWORK_ERROR" : `HTTP_${status}`);
    this.code = body?.code ?? 0;
    this.data = body?.data;
    this.traceId = body?.traceId;
  }
  /** field → server message, for a 422 VALIDATION_ERROR */
  get fields(): Record<string, string> {
    if (this.type !== "VALIDATION_ERROR" || !Array.isArray(this.data)) return {};
    return Object.fromEntries((this.data as { field?: string; message?: string }[]).filter((d) => d.field).map((d) => [d.field!, d.message ?? ""]));
  }
}

export function isApiError(err: unknown, type?: string): err is ApiError {
  return err instanceof ApiError && (type === undefined || err.type === type);
}

type Messages = Record<string, [zh: string, en: string]>;

const BY_TYPE: Messages = {
  NETWORK_ERROR: ["无法连接到商城，请检查网络后重试", "We can't reach the shop. Check your connection and try again."],
  VALIDATION_ERROR: ["填写的信息有误，请检查后重试", "Some details are not valid. Please check them and try again."],
  BAD_REQUEST: ["请求有误，请刷新页面后重试", "Something was wrong with that request. Please reload and try again."],
  UNAUTHORIZED: ["请先登录", "Please sign in first."],
  TOKEN_INVALID: ["登录已过期，请重新登录", "Your session has expired. Please sign in again."],
  TOKEN_REVOKED: ["登录已失效，请重新登录", "You were signed out. Please sign in again."],
  FORBIDDEN: ["您没有权限执行此操作", "You are not allowed to do that."],
  NOT_FOUND: ["您要找的内容不存在", "We couldn't find what you were looking for."],
  RATE_LIMITED: ["操作太频繁，请稍后再试", "Too many requests. Please wait a moment and try again."],
  LOGIN_RATE_LIMITED: ["登录尝试次数过多，请稍后再试", "Too many sign-in attempts. Please try again later."],
  SERVICE_UNAVAILABLE: ["服务繁忙，请稍后再试", "The shop is busy right now. Please try again shortly."],
  REQUEST_TIMEOUT: ["服务响应超时，请稍后再试", "The shop took too long to answer. Please try again."],
  INTERNAL_ERROR: ["系统出了点问题，请稍后再试", "Something went wrong on our side. Please try again later."],
  IDEMPOTENCY_IN_PROGRESS: ["您的请求正在处理中，请稍候", "Your request is still being processed. Please wait a moment."],
  ORDER_REQUEST_IN_PROGRESS: ["您的订单正在提交中，请稍候", "Your order is still being placed. Please wait a moment."],
  IDEMPOTENCY_CONFLICT: ["请求已变更，请重新提交", "The request changed. Please submit it again."],
  USERNAME_TAKEN: ["该用户名已被注册", "That username is already taken."],
  EMAIL_TAKEN: ["该邮箱已被注册", "That email address is already registered."],
  MOBILE_TAKEN: ["该手机号已被注册", "That mobile number is already registered."],
  INVALID_CREDENTIALS: ["用户名或密码错误", "Wrong username or password."],
  ACCOUNT_DISABLED: ["该账号已被停用，请联系客服", "This account is disabled. Please contact support."],
  ADDRESS_NOT_FOUND: ["收货地址不存在，请重新选择", "That address no longer exists. Please choose another."],
  ADDRESS_LIMIT_REACHED: ["最多保存 20 个收货地址", "You can keep at most 20 addresses."],
  INSUFFICIENT_BALANCE: ["钱包余额不足", "Your wallet balance is not enough."],
  PRODUCT_NOT_FOUND: ["商品不存在或已下架", "This product doesn't exist or was removed."],
  SKU_NOT_FOUND: ["该规格已不存在", "That option is no longer available."],
  PRODUCT_OFF_SALE: ["商品已下架", "This product is no longer on sale."],
  // catalog administration (the console)
  CATEGORY_NOT_FOUND: ["分类不存在", "That category doesn't exist."],
  CATEGORY_NOT_EMPTY: ["分类下还有商品或子分类", "That category still has products or sub-categories."],
  CATEGORY_CYCLE: ["分类不能移动到自己的下级", "A category can't be moved under itself."],
  BRAND_NOT_FOUND: ["品牌不存在", "That brand doesn't exist."],
  BRAND_IN_USE: ["该品牌下还有商品", "That brand still has products."],
  BRAND_NAME_TAKEN: ["品牌名称已被使用", "Another brand already has that name."],
  SKU_CODE_TAKEN: ["SKU 编码已被使用", "That SKU code is already used."],
  SYNONYM_GROUP_NOT_FOUND: ["同义词组不存在", "That synonym group doesn't exist."],
  REVIEW_NOT_ALLOWED: ["确认收货后才能评价", "You can review a product after your order is completed."],
  REVIEW_EXISTS: ["您已评价过该商品", "You have already reviewed this item."],
  ORDER_NOT_FOUND: ["订单不存在", "We couldn't find that order."],
  ORDER_STATE_CONFLICT: ["订单状态已变化，请刷新后查看", "The order's status has changed. Please refresh."],
  OUT_OF_STOCK: ["库存不足，请减少数量或选择其他商品", "Not enough stock. Lower the quantity or choose another item."],
  INSUFFICIENT_STOCK: ["库存不足", "Not enough stock."],
  CART_EMPTY: ["购物车中没有选中的商品", "No items are selected in your cart."],
  CURRENCY_MISMATCH: ["不同币种的商品不能一起下单", "Items priced in different currencies can't be ordered together."],
  PRICING_INVALID: ["这些商品暂时无法结算", "These items can't be priced right now."],
  REFUND_STATE_CONFLICT: ["退款申请状态已变化", "The refund request's status has changed."],
  PAYMENT_NOT_FOUND: ["支付单不存在", "We couldn't find that payment."],
  PAYMENT_STATE_CONFLICT: ["支付状态已变化，请刷新后查看", "The payment's status has changed. Please refresh."],
  ORDER_NOT_PAYABLE: ["该订单无法支付（可能已取消或已超时）", "This order can't be paid (it may be cancelled or expired)."],
  PAYMENT_IN_PROGRESS: ["该订单有一笔支付正在进行中", "A payment for this order is already in progress."],
  ORDER_ALREADY_PAID: ["该订单已支付", "This order is already paid."],
  PAYMENT_CHANNEL_UNAVAILABLE: ["该支付方式暂不可用", "This payment method isn't available."],
  CART_LINE_NOT_FOUND: ["购物车中没有该商品", "That item is not in your cart."],
  CART_FULL: ["购物车已满（最多 100 件商品）", "Your cart is full (at most 100 items)."],
  CART_QUANTITY_INVALID: ["每件商品数量为 1–99", "Quantity must be between 1 and 99."],
  SECKILL_SOLD_OUT: ["已抢光", "Sold out."],
  SECKILL_LIMIT_REACHED: ["您已达到限购数量", "You've reached the purchase limit."],
  SECKILL_NOT_ACTIVE: ["秒杀未开始或已结束", "This flash sale isn't running right now."],
  SECKILL_EVENT_NOT_FOUND: ["秒杀活动不存在", "That flash sale doesn't exist."],
  SECKILL_TICKET_NOT_FOUND: ["抢购记录不存在", "We couldn't find that purchase."],
  SECKILL_OVERLAP: ["该商品在这个时间段已有秒杀活动", "Another flash sale of this item overlaps that time."],
  SECKILL_STATE_CONFLICT: ["秒杀活动当前状态不允许此操作", "The flash sale can't do that in its current state."],
  SECKILL_STOCK_SHORT: ["库存不足，无法创建秒杀", "There isn't enough stock for this flash sale."],
  COUPON_NOT_FOUND: ["优惠券不存在", "That coupon doesn't exist."],
  COUPON_SOLD_OUT: ["优惠券已领完", "These coupons are all gone."],
  COUPON_LIMIT_REACHED: ["您已领取过该优惠券", "You've already claimed this coupon."],
  COUPON_NOT_APPLICABLE: ["该优惠券不适用于本订单", "This coupon doesn't apply to this order."],
  COUPON_NOT_CLAIMABLE: ["该优惠券当前不可领取", "This coupon can't be claimed right now."],
  COUPON_EXPIRED: ["优惠券已过期", "This coupon has expired."],
  INSUFFICIENT_POINTS: ["积分不足", "You don't have enough points."],
  POINTS_CAP_EXCEEDED: ["积分最多抵扣商品金额的一半", "Points can pay for at most half of the goods."],
  MESSAGE_NOT_FOUND: ["消息不存在", "That message doesn't exist."],
};

const BY_STATUS: Record<number, [string, string]> = {
  400: BY_TYPE.BAD_REQUEST,
  401: BY_TYPE.UNAUTHORIZED,
  403: BY_TYPE.FORBIDDEN,
  404: BY_TYPE.NOT_FOUND,
  409: ["操作与当前状态冲突，请刷新后重试", "That can't be done right now. Please refresh and try again."],
  413: ["内容太大", "That is too large."],
  422: BY_TYPE.VALIDATION_ERROR,
  429: BY_TYPE.RATE_LIMITED,
  503: BY_TYPE.SERVICE_UNAVAILABLE,
  504: BY_TYPE.REQUEST_TIMEOUT,
};

/** A sentence for the failure in the given language (anything thrown: ApiError, network, bug). */
export function errorMessage(err: unknown, lang: Lang): string {
  const i = lang === "en" ? 1 : 0;
  if (err instanceof ApiError) {
    const m = BY_TYPE[err.type] ?? BY_STATUS[err.status] ?? (err.status >= 500 ? BY_TYPE.INTERNAL_ERROR : BY_TYPE.BAD_REQUEST);
    return m[i];
  }
  if (err instanceof TypeError) return BY_TYPE.NETWORK_ERROR[i];
  return BY_TYPE.INTERNAL_ERROR[i];
}

/** The error types this module has words for (tests check the server's types are covered). */
export const KNOWN_ERROR_TYPES = Object.keys(BY_TYPE);
