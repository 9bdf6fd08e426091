/**
 * Stable error catalogue. Every business error a client can see has a SCREAMING_SNAKE_CASE
 * `type`, an HTTP status and a module code (API.md "Envelope"). Errors cross nodes as plain
 * objects, so the gateway maps `type` → module code through this table rather than relying on
 * class identity. Add new types here; the unit test checks codes are unique and in range.
 */
import { Errors } from "moleculer";

export interface ErrorDef {
  status: number;
  code: number;
  message: string;
}

export const ERRORS = {
  // generic (gateway / transport)
  VALIDATION_ERROR: { status: 422, code: 1422, message: "validation failed" },
  BAD_REQUEST: { status: 400, code: 1400, message: "bad request" },
  UNAUTHORIZED: { status: 401, code: 1401, message: "authentication required" },
  FORBIDDEN: { status: 403, code: 1403, message: "not allowed" },
  NOT_FOUND: { status: 404, code: 1404, message: "not found" },
  PAYLOAD_TOO_LARGE: { status: 413, code: 1413, message: "request body too large" },
  HEADERS_TOO_LARGE: { status: 431, code: 1431, message: "request headers too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 1415, message: "unsupported media type" },
  RATE_LIMITED: { status: 429, code: 1429, message: "too many requests" },
  CONFLICT: { status: 409, code: 1409, message: "conflict" },
  IDEMPOTENCY_CONFLICT: { status: 409, code: 1410, message: "Idempotency-Key was used with a different request" },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, code: 1411, message: "Idempotency-Key header is required" },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, code: 1412, message: "a request with this Idempotency-Key is still being processed; retry shortly" },
  INTERNAL_ERROR: { status: 500, code: 1500, message: "internal error" },
  SERVICE_UNAVAILABLE: { status: 503, code: 1503, message: "service unavailable" },
  REQUEST_TIMEOUT: { status: 504, code: 1504, message: "upstream timeout" },
  NOT_READY: { status: 503, code: 1505, message: "not ready" },

  // users / auth 10000–10999
  USERNAME_TAKEN: { status: 409, code: 10001, message: "username is already taken" },
  EMAIL_TAKEN: { status: 409, code: 10002, message: "email is already registered" },
  INVALID_CREDENTIALS: { status: 401, code: 10003, message: "invalid username or password" },
  TOKEN_INVALID: { status: 401, code: 10004, message: "token is invalid or expired" },
  TOKEN_REVOKED: { status: 401, code: 10005, message: "token has been revoked" },
  USER_NOT_FOUND: { status: 404, code: 10006, message: "user not found" },
  ADDRESS_NOT_FOUND: { status: 404, code: 10007, message: "address not found" },
  ADDRESS_LIMIT_REACHED: { status: 409, code: 10008, message: "at most 20 addresses per user" },
  INSUFFICIENT_BALANCE: { status: 409, code: 10009, message: "wallet balance is insufficient" },
  LOGIN_RATE_LIMITED: { status: 429, code: 10010, message: "too many login attempts, try again later" },
  ACCOUNT_DISABLED: { status: 403, code: 10011, message: "account is disabled" },
  WALLET_REFERENCE_CONFLICT: { status: 409, code: 10012, message: "reference was already used with a different amount" },
  MOBILE_TAKEN: { status: 409, code: 10013, message: "mobile number is already registered" },
  CANNOT_DISABLE_SELF: { status: 409, code: 10014, message: "an admin cannot disable their own account" },

  // catalog 20000–20999
  PRODUCT_NOT_FOUND: { status: 404, code: 20001, message: "product not found" },
  SKU_NOT_FOUND: { status: 404, code: 20002, message: "SKU not found" },
  CATEGORY_NOT_FOUND: { status: 404, code: 20003, message: "category not found" },
  BRAND_NOT_FOUND: { status: 404, code: 20004, message: "brand not found" },
  CATEGORY_NOT_EMPTY: { status: 409, code: 20005, message: "category still has products or sub-categories" },
  CATEGORY_CYCLE: { status: 422, code: 20006, message: "a category cannot be its own ancestor" },
  SKU_CODE_TAKEN: { status: 409, code: 20007, message: "SKU code is already used" },
  PRODUCT_OFF_SALE: { status: 409, code: 20008, message: "product is not on sale" },
  BRAND_IN_USE: { status: 409, code: 20009, message: "brand still has products" },
  REVIEW_NOT_ALLOWED: { status: 403, code: 20010, message: "only buyers of a completed order may review it" },
  REVIEW_EXISTS: { status: 409, code: 20011, message: "this order line was already reviewed" },
  BRAND_NAME_TAKEN: { status: 409, code: 20012, message: "brand name is already used" },
  SYNONYM_GROUP_NOT_FOUND: { status: 404, code: 20013, message: "synonym group not found" },

  // orders 30000–30999
  ORDER_NOT_FOUND: { status: 404, code: 30001, message: "order not found" },
  ORDER_STATE_CONFLICT: { status: 409, code: 30004, message: "order state does not allow this" },
  OUT_OF_STOCK: { status: 409, code: 30005, message: "not enough stock" },
  CART_EMPTY: { status: 409, code: 30006, message: "no selected cart lines to order" },
  REFUND_NOT_FOUND: { status: 404, code: 30007, message: "refund request not found" },
  REFUND_STATE_CONFLICT: { status: 409, code: 30008, message: "refund request state does not allow this" },
  ORDER_LINE_NOT_FOUND: { status: 404, code: 30009, message: "the order has no line for this SKU" },
  ORDER_REQUEST_IN_PROGRESS: { status: 409, code: 30010, message: "a request with this Idempotency-Key is still being processed; retry shortly" },
  CURRENCY_MISMATCH: { status: 409, code: 30011, message: "items priced in different currencies cannot be ordered together" },
  PRICING_INVALID: { status: 422, code: 30012, message: "the items cannot be priced" },

  // payments 40000–40999
  PAYMENT_NOT_FOUND: { status: 404, code: 40001, message: "payment not found" },
  PAYMENT_STATE_CONFLICT: { status: 409, code: 40002, message: "payment state does not allow this" },
  INVALID_SIGNATURE: { status: 401, code: 40003, message: "signature verification failed" },
  AMOUNT_MISMATCH: { status: 400, code: 40004, message: "amount or currency does not match the payment" },
  ORDER_NOT_PAYABLE: { status: 409, code: 40005, message: "order cannot be paid" },
  PAYMENT_IN_PROGRESS: { status: 409, code: 40006, message: "another payment for this order is still open" },
  ORDER_ALREADY_PAID: { status: 409, code: 40007, message: "order already has a successful payment" },
  CALLBACK_INVALID: { status: 400, code: 40008, message: "malformed provider callback" },
  CALLBACK_EXPIRED: { status: 400, code: 40009, message: "callback timestamp is outside the accepted window" },
  CALLBACK_REPLAYED: { status: 409, code: 40010, message: "callback nonce was already used" },
  REFUND_AMOUNT_EXCEEDED: { status: 409, code: 40011, message: "refund exceeds the refundable amount of the payment" },
  REFUND_CONFLICT: { status: 409, code: 40012, message: "afterSalesId was already used for a different refund" },
  REFUND_RECORD_NOT_FOUND: { status: 404, code: 40013, message: "refund not found" },
  PAYMENT_CHANNEL_UNAVAILABLE: { status: 422, code: 40014, message: "this payment channel is not available here" },

  // cart 50000–50999
  CART_LINE_NOT_FOUND: { status: 404, code: 50001, message: "cart line not found" },
  CART_FULL: { status: 409, code: 50002, message: "a cart holds at most 100 lines" },
  CART_QUANTITY_INVALID: { status: 422, code: 50003, message: "quantity must be 1-99 per line" },

  // seckill 60000–60999
  SECKILL_SOLD_OUT: { status: 409, code: 60001, message: "sold out" },
  SECKILL_LIMIT_REACHED: { status: 409, code: 60002, message: "purchase limit reached" },
  SECKILL_NOT_ACTIVE: { status: 409, code: 60003, message: "sale is not active" },
  SECKILL_EVENT_NOT_FOUND: { status: 404, code: 60004, message: "seckill event not found" },
  SECKILL_TICKET_NOT_FOUND: { status: 404, code: 60005, message: "ticket not found" },

  // uploads 70000–70999
  UPLOAD_INVALID_TYPE: { status: 415, code: 70001, message: "only PNG, JPEG and WebP images are accepted" },
  UPLOAD_TOO_LARGE: { status: 413, code: 70002, message: "file is larger than 5 MB" },
  UPLOAD_MISSING_FILE: { status: 400, code: 70003, message: "multipart field 'file' is required" },
  UPLOAD_NOT_FOUND: { status: 404, code: 70004, message: "file not found" },

  // inventory 80000–80999
  STOCK_NOT_FOUND: { status: 404, code: 80001, message: "no stock record for this SKU" },
  INSUFFICIENT_STOCK: { status: 409, code: 80002, message: "not enough stock available" },
  STOCK_BELOW_RESERVED: { status: 409, code: 80003, message: "on-hand stock cannot go below reserved" },
  RESERVATION_NOT_FOUND: { status: 404, code: 80004, message: "reservation not found" },
  RESERVATION_STATE_CONFLICT: { status: 409, code: 80005, message: "reservation is no longer open" },
  RESERVATION_REFERENCE_CONFLICT: { status: 409, code: 80006, message: "reference was already used for different lines" },

  // marketing 90000–90999
  COUPON_NOT_FOUND: { status: 404, code: 90001, message: "coupon not found" },
  COUPON_SOLD_OUT: { status: 409, code: 90002, message: "no coupons left" },
  COUPON_LIMIT_REACHED: { status: 409, code: 90003, message: "coupon per-user limit reached" },
  COUPON_NOT_APPLICABLE: { status: 409, code: 90004, message: "coupon does not apply to this order" },
  INSUFFICIENT_POINTS: { status: 409, code: 90005, message: "not enough points" },
  COUPON_TEMPLATE_NOT_FOUND: { status: 404, code: 90101, message: "coupon template not found" },
  COUPON_TEMPLATE_IN_USE: { status: 409, code: 90102, message: "coupons of this template were claimed: disable it instead of deleting it" },
  COUPON_NOT_CLAIMABLE: { status: 409, code: 90103, message: "this coupon cannot be claimed now" },
  COUPON_EXPIRED: { status: 409, code: 90104, message: "coupon has expired" },
  COUPON_TERMS_INVALID: { status: 422, code: 90105, message: "coupon terms are inconsistent" },
  OFFER_WINDOW_INVALID: { status: 422, code: 90106, message: "the validity window must end after it starts" },
  COUPON_QUANTITY_BELOW_CLAIMED: { status: 409, code: 90107, message: "total quantity cannot go below the coupons already claimed" },
  PROMOTION_NOT_FOUND: { status: 404, code: 90108, message: "promotion not found" },
  PROMOTION_RULES_INVALID: { status: 422, code: 90109, message: "promotion rules are inconsistent" },
  POINTS_REFERENCE_CONFLICT: { status: 409, code: 90501, message: "this order or key already moved points for another user or amount" },
  POINTS_HOLD_RELEASED: { status: 409, code: 90502, message: "the points of this order were already given back" },
  POINTS_CAP_EXCEEDED: { status: 422, code: 90090, message: "points may pay at most half of the goods" },

  // messages 95000–95999
  TEMPLATE_NOT_FOUND: { status: 404, code: 95001, message: "message template not found" },
  MESSAGE_NOT_FOUND: { status: 404, code: 95002, message: "message not found" },
} satisfies Record<string, ErrorDef>;

export type ErrorType = keyof typeof ERRORS;

/** The module code for a type, or the generic code for its HTTP status. */
export function codeFor(type: string | undefined, status: number): number {
  if (type && type in ERRORS) return ERRORS[type as ErrorType].code;
  return 1000 + (status >= 400 && status < 600 ? status : 500);
}

/**
 * A typed, expected business failure (4xx). Use `bizError("ORDER_NOT_FOUND")` from actions;
 * never `throw new Error(...)`.
 */
export function bizError(type: ErrorType, message?: string, data?: Record<string, unknown>): Errors.MoleculerClientError {
  const def: ErrorDef = ERRORS[type];
  return new Errors.MoleculerClientError(message ?? def.message, def.status, type, data ?? {});
}

/** 422 with the offending fields, in the same shape moleculer's validator uses. */
export function validationError(fields: { field: string; message: string; type?: string }[]): Errors.ValidationError {
  return new Errors.ValidationError("validation failed", "VALIDATION_ERROR", fields.map((f) => ({ type: "invalid", ...f })));
}

/** Infrastructure failure that a caller may retry (5xx, retryable). */
export function retryableError(message: string, type = "SERVICE_UNAVAILABLE", data?: unknown): Errors.MoleculerRetryableError {
  return new Errors.MoleculerRetryableError(message, 503, type, data);
}
