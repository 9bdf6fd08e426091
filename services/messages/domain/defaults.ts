/**
 * The built-in notifications and their shipped templates, in zh-CN and English. A template's
 * code is `<notification>.<channel>` (`order.paid.email`); the channels a notification has
 * templates for are the channels it goes out on. Admins override a template per locale (a row in
 * message_templates with the same code and locale) or disable it; the override may use only the
 * variables its notification provides (`vars`), which is checked when it is saved.
 *
 * Every notification gets `nickname` (the nickname, else the username), and those about an order
 * `orderNo`, `link` (`/orders/<orderNo>`, for the storefront's inbox) and `url` (the same link
 * on PUBLIC_BASE_URL, for email and SMS).
 */
import type { Category, Channel, Locale } from "../../../models/messages";

export const LOCALES: readonly Locale[] = ["zh-CN", "en"];
export const DEFAULT_LOCALE: Locale = "zh-CN";

interface Text {
  subject: string;
  body: string;
}
interface ChannelTemplates {
  category?: Category;
  "zh-CN": Text;
  en: Text;
}
export interface NotificationDef {
  vars: readonly string[];
  channels: Partial<Record<Channel, ChannelTemplates>>;
}

const ORDER = ["nickname", "orderNo", "link", "url"] as const;

/** A short HTML email: greeting, paragraphs, a button-like link. Variables stay escaped. */
function email(greeting: string, paragraphs: string[], action?: { label: string }): string {
  const ps = paragraphs.map((p) => `<p>${p}</p>`).join("\n");
  const link = action ? `\n<p><a href="{{url}}">${action.label}</a></p>` : "";
  return `<p>${greeting}</p>\n${ps}${link}\n<p style="color:#888">Mall</p>`;
}

export const NOTIFICATIONS = {
  "order.paid": {
    vars: [...ORDER, "amount"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 已支付", body: "{{nickname}}，您的订单 {{orderNo}} 已成功支付 {{amount}}，我们会尽快为您发货。" },
        en: { subject: "Order {{orderNo}} is paid", body: "Hi {{nickname}}, we received {{amount}} for order {{orderNo}}. We will ship it soon." },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 支付成功", body: email("{{nickname}}，您好：", ["您的订单 <b>{{orderNo}}</b> 已成功支付 {{amount}}。", "我们会尽快为您发货。"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Payment received for order {{orderNo}}", body: email("Hi {{nickname}},", ["We received your payment of {{amount}} for order <b>{{orderNo}}</b>.", "We will ship it soon."], { label: "View order {{orderNo}}" }) },
      },
    },
  },
  "order.shipped": {
    vars: [...ORDER, "carrier", "trackingNo"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 已发货", body: "您的订单 {{orderNo}} 已由 {{carrier}} 发出，运单号 {{trackingNo}}。" },
        en: { subject: "Order {{orderNo}} has shipped", body: "Your order {{orderNo}} is on its way with {{carrier}}, tracking number {{trackingNo}}." },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 已发货", body: email("{{nickname}}，您好：", ["您的订单 <b>{{orderNo}}</b> 已由 {{carrier}} 发出。", "运单号：{{trackingNo}}"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Order {{orderNo}} has shipped", body: email("Hi {{nickname}},", ["Your order <b>{{orderNo}}</b> is on its way with {{carrier}}.", "Tracking number: {{trackingNo}}"], { label: "View order {{orderNo}}" }) },
      },
      sms: {
        "zh-CN": { subject: "订单发货", body: "【Mall】您的订单 {{orderNo}} 已由 {{carrier}} 发出，运单号 {{trackingNo}}。详情 {{url}}" },
        en: { subject: "Order shipped", body: "[Mall] Order {{orderNo}} shipped with {{carrier}}, tracking {{trackingNo}}. {{url}}" },
      },
    },
  },
  "order.cancelled": {
    vars: [...ORDER, "reason"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 已取消", body: "您的订单 {{orderNo}} 已取消：{{reason}}。" },
        en: { subject: "Order {{orderNo}} was cancelled", body: "Your order {{orderNo}} was cancelled: {{reason}}." },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 已取消", body: email("{{nickname}}，您好：", ["您的订单 <b>{{orderNo}}</b> 已取消：{{reason}}。"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Order {{orderNo}} was cancelled", body: email("Hi {{nickname}},", ["Your order <b>{{orderNo}}</b> was cancelled: {{reason}}."], { label: "View order {{orderNo}}" }) },
      },
    },
  },
  "refund.approved": {
    vars: [...ORDER, "amount", "note"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 退款已同意", body: "您对订单 {{orderNo}} 的退款申请已同意，{{amount}} 将原路退回。{{note}}" },
        en: { subject: "Refund approved for order {{orderNo}}", body: "Your refund request for order {{orderNo}} was approved; {{amount}} is on its way back to you. {{note}}" },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 退款已同意", body: email("{{nickname}}，您好：", ["您对订单 <b>{{orderNo}}</b> 的退款申请已同意，{{amount}} 将原路退回。", "{{note}}"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Refund approved for order {{orderNo}}", body: email("Hi {{nickname}},", ["Your refund request for order <b>{{orderNo}}</b> was approved; {{amount}} is on its way back to you.", "{{note}}"], { label: "View order {{orderNo}}" }) },
      },
    },
  },
  "refund.rejected": {
    vars: [...ORDER, "amount", "note"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 退款未通过", body: "您对订单 {{orderNo}} 的退款申请未通过。{{note}}" },
        en: { subject: "Refund declined for order {{orderNo}}", body: "Your refund request for order {{orderNo}} was declined. {{note}}" },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 退款未通过", body: email("{{nickname}}，您好：", ["您对订单 <b>{{orderNo}}</b> 的退款申请未通过。", "{{note}}"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Refund declined for order {{orderNo}}", body: email("Hi {{nickname}},", ["Your refund request for order <b>{{orderNo}}</b> was declined.", "{{note}}"], { label: "View order {{orderNo}}" }) },
      },
    },
  },
  "payment.refunded": {
    vars: [...ORDER, "amount", "refundNo"],
    channels: {
      inbox: {
        "zh-CN": { subject: "订单 {{orderNo}} 已退款 {{amount}}", body: "订单 {{orderNo}} 的 {{amount}} 已退回您的支付账户（退款单号 {{refundNo}}）。" },
        en: { subject: "{{amount}} refunded for order {{orderNo}}", body: "{{amount}} for order {{orderNo}} was returned to your payment account (refund {{refundNo}})." },
      },
      email: {
        "zh-CN": { subject: "订单 {{orderNo}} 已退款", body: email("{{nickname}}，您好：", ["订单 <b>{{orderNo}}</b> 的 {{amount}} 已退回您的支付账户。", "退款单号：{{refundNo}}"], { label: "查看订单 {{orderNo}}" }) },
        en: { subject: "Refund for order {{orderNo}}", body: email("Hi {{nickname}},", ["{{amount}} for order <b>{{orderNo}}</b> was returned to your payment account.", "Refund number: {{refundNo}}"], { label: "View order {{orderNo}}" }) },
      },
    },
  },
  "seckill.succeeded": {
    vars: [...ORDER, "eventTitle"],
    channels: {
      inbox: {
        "zh-CN": { subject: "抢购成功：{{eventTitle}}", body: "恭喜，您抢到了「{{eventTitle}}」！订单 {{orderNo}} 已生成，请尽快支付。" },
        en: { subject: "You got it: {{eventTitle}}", body: "Congratulations, you got \"{{eventTitle}}\". Order {{orderNo}} is waiting for your payment." },
      },
      sms: {
        "zh-CN": { subject: "抢购成功", body: "【Mall】抢购成功：{{eventTitle}}，订单 {{orderNo}}，请尽快支付 {{url}}" },
        en: { subject: "Flash sale won", body: "[Mall] You got {{eventTitle}}: order {{orderNo}}, please pay soon {{url}}" },
      },
    },
  },
  "seckill.failed": {
    vars: ["nickname", "eventTitle", "reason", "link", "url"],
    channels: {
      inbox: {
        "zh-CN": { subject: "抢购未成功：{{eventTitle}}", body: "很遗憾，您参与的「{{eventTitle}}」未能下单：{{reason}}。" },
        en: { subject: "Not this time: {{eventTitle}}", body: "Sorry, your purchase in \"{{eventTitle}}\" did not go through: {{reason}}." },
      },
    },
  },
  "coupon.claimed": {
    vars: ["nickname", "couponName", "validTo", "link", "url"],
    channels: {
      inbox: {
        "zh-CN": { subject: "优惠券已到账：{{couponName}}", body: "您领取的优惠券「{{couponName}}」已放入账户，有效期至 {{validTo}}。" },
        en: { subject: "Coupon added: {{couponName}}", body: "Your coupon \"{{couponName}}\" is in your account, valid until {{validTo}}." },
      },
    },
  },
  "coupon.expiring": {
    vars: ["nickname", "couponName", "validTo", "link", "url"],
    channels: {
      inbox: {
        "zh-CN": { subject: "优惠券即将过期：{{couponName}}", body: "您的优惠券「{{couponName}}」将于 {{validTo}} 过期，别忘了使用。" },
        en: { subject: "Your coupon expires soon: {{couponName}}", body: "Your coupon \"{{couponName}}\" expires on {{validTo}}. Don't forget to use it." },
      },
      email: {
        category: "marketing",
        "zh-CN": { subject: "优惠券「{{couponName}}」即将过期", body: email("{{nickname}}，您好：", ["您的优惠券「{{couponName}}」将于 {{validTo}} 过期。"], { label: "去使用" }) },
        en: { subject: "Your coupon \"{{couponName}}\" expires soon", body: email("Hi {{nickname}},", ["Your coupon \"{{couponName}}\" expires on {{validTo}}."], { label: "Use it now" }) },
      },
    },
  },
  "inventory.low": {
    vars: ["nickname", "skuId", "available", "threshold", "link", "url"],
    channels: {
      inbox: {
        "zh-CN": { subject: "库存预警：SKU {{skuId}}", body: "SKU {{skuId}} 可售库存仅剩 {{available}}（预警线 {{threshold}}），请及时补货。" },
        en: { subject: "Low stock: SKU {{skuId}}", body: "SKU {{skuId}} is down to {{available}} available (threshold {{threshold}}). Time to restock." },
      },
      email: {
        "zh-CN": { subject: "库存预警：SKU {{skuId}}", body: email("{{nickname}}，您好：", ["SKU <b>{{skuId}}</b> 可售库存仅剩 {{available}}（预警线 {{threshold}}）。"], { label: "查看库存" }) },
        en: { subject: "Low stock: SKU {{skuId}}", body: email("Hi {{nickname}},", ["SKU <b>{{skuId}}</b> is down to {{available}} available (threshold {{threshold}})."], { label: "View stock" }) },
      },
    },
  },
} as const satisfies Record<string, NotificationDef>;

export type NotificationKey = keyof typeof NOTIFICATIONS;

export interface BuiltinTemplate {
  code: string;
  notification: NotificationKey;
  channel: Channel;
  locale: Locale;
  category: Category;
  subject: string;
  body: string;
  vars: readonly string[];
}

export const templateCode = (n: NotificationKey, channel: Channel) => `${n}.${channel}`;

/** Every shipped template, by `code` then locale. */
export const BUILTINS: ReadonlyMap<string, Readonly<Record<Locale, BuiltinTemplate>>> = (() => {
  const m = new Map<string, Record<Locale, BuiltinTemplate>>();
  for (const [n, def] of Object.entries(NOTIFICATIONS) as [NotificationKey, NotificationDef][]) {
    for (const [channel, t] of Object.entries(def.channels) as [Channel, ChannelTemplates][]) {
      const code = templateCode(n, channel);
      const of = (locale: Locale): BuiltinTemplate => ({ code, notification: n, channel, locale, category: t.category ?? "transactional", ...t[locale], vars: def.vars });
      m.set(code, { "zh-CN": of("zh-CN"), en: of("en") });
    }
  }
  return m;
})();

/** The channels a notification is sent on (those it has a template for). */
export function channelsOf(n: NotificationKey): Channel[] {
  return Object.keys(NOTIFICATIONS[n].channels) as Channel[];
}

export { formatMoney } from "../../shared/money";

/** A date as the reader's locale writes it, in China Standard Time (the shop's time zone). */
export function formatDate(iso: string | Date, locale: Locale): string {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(locale === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}
