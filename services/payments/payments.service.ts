/**
 * Payments: open a payment for an unpaid order (sandbox provider or wallet), receive the
 * provider's signed callback, refunds. State changes are compare-and-sets with their event in
 * the same transaction (payment-store.ts); the protocol with the sandbox provider is in
 * sandbox-provider.ts and domain/signature.ts.
 *
 * Nothing here waits on another service inside a database transaction: a remote call (orders,
 * users' wallet) happens between transactions and is idempotent by reference, so a crash in
 * between is finished by the recovery sweep (stale PENDING wallet payments and refunds).
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { PaymentModels, PaymentAttrs, definePaymentModels } from "../../models/payments";
import type { Meta } from "../shared/meta";
import { MallConfig, configOf } from "../shared/config";
import { bizError, retryableError } from "../shared/errors";
import { enabledChannels, payability } from "./domain/payment-state";
import { CallbackFormatError, SIGNATURE_HEADER, isFresh, parseCallback, verifySignature } from "./domain/signature";
import { executeRefund, payByWallet, sweepStale } from "./money-moves";
import { PaymentStore, paymentDto, refundDto } from "./payment-store";
import { CreatePaymentParams, NotifyResult, NotifyResultSchema, PaymentActions, PaymentChannel, PaymentDto, PaymentChannelsSchema, PaymentSchema, RefundDto, RefundParams, RefundResult, autoRefundId, SandboxCallbackSchema } from "./payments.contracts";
import { payPagePath, postCallback, signedCallback } from "./sandbox-provider";
import { callAction } from "../shared/actions";
import { OrderCalls } from "../orders/orders.contracts";
import { created as answerCreated } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type PaymentsThis = Service & {
  cfg: MallConfig;
  models: PaymentModels;
  sequelize: Sequelize;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  store: PaymentStore;
  $sweepTimer?: NodeJS.Timeout;
  $sweeping?: boolean;
  $sweepRun?: Promise<void>;
  $stopping?: boolean;
  toDto(p: PaymentAttrs, withRefunds?: boolean): Promise<PaymentDto>;
  visiblePayment(ctx: Ctx<{ paymentNo: string }>): Promise<PaymentAttrs>;
  payByWallet(p: PaymentAttrs): Promise<PaymentAttrs>;
  executeRefund(refundNo: string): Promise<void>;
  assertChannelEnabled(channel: PaymentChannel): void;
  deliverSandboxCallback(ctx: Ctx<unknown>, p: PaymentAttrs, result: "SUCCESS" | "FAIL"): Promise<void>;
  sweep(): Promise<void>;
};

const PAYMENT_NO = { type: "string", pattern: /^P[0-9a-f]{13,40}$/ };
const ORDER_NO = { type: "string", min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ };
const SWEEP_EVERY_MS = 5_000;

const PaymentsService = {
  name: "payments",
  mixins: [DbMixin({ service: "payments", define: definePaymentModels, primary: "Payment" }), OutboxMixin({ producer: "payments" })],
  settings: { rest: "/" },

  actions: {
    create: {
      rest: "POST /payments",
      idempotent: true,
      openapi: {
        // 200 when an open payment of the order with the same channel is answered again
        status: [201, 200],
        response: PaymentSchema,
        errors: ["ORDER_NOT_FOUND", "ORDER_ALREADY_PAID", "ORDER_NOT_PAYABLE", "PAYMENT_IN_PROGRESS", "INSUFFICIENT_BALANCE"],
      },
      summary: "Open a payment for my unpaid order (sandbox: returns payUrl; wallet: paid at once)",
      params: { orderNo: ORDER_NO, channel: { type: "enum", values: ["sandbox", "wallet"] } },
      async handler(this: PaymentsThis, ctx: Ctx<CreatePaymentParams>): Promise<PaymentDto> {
        this.assertChannelEnabled(ctx.params.channel);
        const userId = ctx.meta.user!.id;
        const order = await callAction(ctx, OrderCalls.getForPayment, { orderNo: ctx.params.orderNo })
          .catch((err) => {
            if ((err as { type?: string })?.type === "ORDER_NOT_FOUND") return null;
            throw err;
          });
        if (!order || Number(order.userId) !== userId) throw bizError("ORDER_NOT_FOUND");
        const verdict = payability(order, userId, Date.now());
        // paying an order twice gets one clear answer, whatever its status says by now; a
        // cancelled order stays a state conflict even when a late payment for it (refunded) exists.
        // A payable order needs no look here: its succeeded payment (order.paid not applied yet)
        // holds the order's active slot, and opening a second one answers ORDER_ALREADY_PAID.
        if (verdict !== "ok" && verdict !== "ORDER_STATE_CONFLICT") {
          const active = await this.store.activeFor(order.orderNo);
          if (active?.status === "SUCCEEDED") throw bizError("ORDER_ALREADY_PAID", undefined, { paymentNo: active.paymentNo });
        }
        if (verdict !== "ok") throw bizError(verdict, `order ${order.orderNo} is ${order.status} and cannot be paid`, { status: order.status });

        let { payment, created } = await this.store.open(order, ctx.params.channel);
        // a wallet payment finishes synchronously (a repeat finishes the same one: the debit is
        // idempotent per payment)
        if (payment.channel === "wallet" && payment.status === "PENDING") payment = await this.payByWallet(payment);
        if (created) answerCreated(ctx, `/payments/${payment.paymentNo}`);
        else ctx.meta.$statusCode = 200;
        return this.toDto(payment);
      },
    },

    channels: {
      rest: "GET /payments/channels",
      openapi: { response: PaymentChannelsSchema },
      auth: false,
      summary: "The payment channels a client may use here (sandbox only where SANDBOX_ENABLED)",
      handler(this: PaymentsThis): { channels: PaymentChannel[] } {
        return { channels: enabledChannels(this.cfg.sandboxEnabled) };
      },
    },

    get: {
      rest: "GET /payments/:paymentNo",
      openapi: { response: PaymentSchema, errors: ["PAYMENT_NOT_FOUND"] },
      summary: "A payment of mine (or any, for admins) with its refunds",
      params: { paymentNo: PAYMENT_NO },
      async handler(this: PaymentsThis, ctx: Ctx<{ paymentNo: string }>): Promise<PaymentDto> {
        return this.toDto(await this.visiblePayment(ctx), true);
      },
    },

    completeSandbox: {
      rest: "POST /payments/sandbox/:paymentNo/complete",
      openapi: { response: PaymentSchema, errors: ["PAYMENT_NOT_FOUND", "PAYMENT_STATE_CONFLICT"] },
      summary: "Sandbox pay page: the provider sends the signed callback for this payment",
      params: { paymentNo: PAYMENT_NO, result: { type: "enum", values: ["SUCCESS", "FAIL"], default: "SUCCESS" } },
      async handler(this: PaymentsThis, ctx: Ctx<{ paymentNo: string; result: "SUCCESS" | "FAIL" }>): Promise<PaymentDto> {
        this.assertChannelEnabled("sandbox");
        const p = await this.visiblePayment(ctx);
        if (p.channel !== "sandbox" || p.status !== "PENDING") {
          throw bizError("PAYMENT_STATE_CONFLICT", `payment ${p.paymentNo} is a ${p.status} ${p.channel} payment; only a PENDING sandbox payment can be completed`, {
            status: p.status,
            channel: p.channel,
          });
        }
        await this.deliverSandboxCallback(ctx, p, ctx.params.result);
        return this.toDto((await this.store.payment(p.paymentNo))!);
      },
    },

    notifySandbox: {
      rest: "POST /payments/notify/sandbox",
      openapi: {
        body: SandboxCallbackSchema,
        headers: [{ name: "X-Sandbox-Signature", required: true, description: "hex(HMAC-SHA256(SANDBOX_SECRET, raw request body))" }],
        response: NotifyResultSchema,
        errors: ["INVALID_SIGNATURE", "CALLBACK_INVALID", "CALLBACK_EXPIRED", "CALLBACK_REPLAYED", "PAYMENT_NOT_FOUND", "AMOUNT_MISMATCH"],
      },
      auth: false,
      rawBody: true,
      summary: "Sandbox provider callback: X-Sandbox-Signature = hex(HMAC-SHA256(secret, rawBody)); duplicates are no-ops",
      // the verified signature is the gate: the provider's callbacks must not compete with
      // clients for a rate-limit budget (sharing one, payments stop completing)
      rateLimit: false,
      // the body is read from the verified raw bytes, never from parsed params
      params: { $$strict: "remove" },
      bulkhead: { enabled: true, concurrency: 20, maxQueueSize: 200 },
      async handler(this: PaymentsThis, ctx: Ctx<unknown>): Promise<NotifyResult> {
        this.assertChannelEnabled("sandbox");
        const raw = ctx.meta.rawBody ?? "";
        const who = `ip=${ctx.meta.clientIp ?? "internal"} request=${ctx.meta.requestId ?? ctx.requestID}`;
        if (!verifySignature(this.cfg.sandboxSecret, raw, ctx.meta.headers?.[SIGNATURE_HEADER])) {
          this.logger.warn(`sandbox callback refused: bad signature (${who})`);
          throw bizError("INVALID_SIGNATURE");
        }
        let cb;
        try {
          cb = parseCallback(raw);
        } catch (err) {
          if (!(err instanceof CallbackFormatError)) throw err;
          this.logger.warn(`sandbox callback refused: ${err.message} (${who})`);
          throw bizError("CALLBACK_INVALID", `malformed provider callback: ${err.message}`);
        }
        if (!isFresh(cb.timestamp, Date.now())) {
          this.logger.warn(`sandbox callback refused: stale timestamp ${cb.timestamp} for ${cb.paymentNo} (${who})`);
          throw bizError("CALLBACK_EXPIRED", undefined, { timestamp: cb.timestamp });
        }
        const p = await this.store.payment(cb.paymentNo);
        if (!p || p.channel !== "sandbox") {
          this.logger.warn(`sandbox callback refused: no sandbox payment ${cb.paymentNo} (${who})`);
          throw bizError("PAYMENT_NOT_FOUND");
        }
        if (cb.amount !== Number(p.amount) || cb.currency !== p.currency) {
          this.logger.warn(`sandbox callback refused: ${cb.amount} ${cb.currency} for payment ${p.paymentNo} of ${p.amount} ${p.currency} (${who})`);
          throw bizError("AMOUNT_MISMATCH", undefined, { paymentNo: p.paymentNo });
        }
        const outcome = await this.store.recordCallback("sandbox", cb, raw, p);
        if (outcome === "refunding") {
          this.logger.warn(`sandbox callback ${cb.providerTxnId} captured ${cb.amount} ${cb.currency} for ${p.paymentNo}, which had failed or was closed: refunding it automatically`);
          const r = await this.store.refundByAfterSales(autoRefundId(p.paymentNo));
          // recorded with the callback: if this fails, the sweep executes the PENDING refund
          if (r) await this.executeRefund(r.refundNo).catch((err) => this.logger.warn(`refund ${r.refundNo} left to the sweep: ${(err as Error)?.message}`));
        }
        if (outcome === "ignored") this.logger.warn(`sandbox callback ${cb.providerTxnId} (${cb.result}) for ${p.paymentNo} ignored: payment is no longer PENDING`);
        return { received: true, duplicate: outcome === "duplicate" };
      },
    },

    refund: {
      visibility: "public",
      summary: "Internal: refund (part of) an order's payment, once per afterSalesId",
      params: {
        orderNo: ORDER_NO,
        afterSalesId: { type: "string", min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ },
        amount: { type: "number", integer: true, positive: true },
        reason: { type: "string", min: 1, max: 255 },
        paymentNo: { ...PAYMENT_NO, optional: true },
      },
      async handler(this: PaymentsThis, ctx: Context<RefundParams>): Promise<RefundResult & RefundDto> {
        const p = ctx.params;
        let r = await this.store.refundByAfterSales(p.afterSalesId);
        if (!r) {
          const payment = await this.store.paymentToRefund(p);
          r = (await this.store.createRefund(payment, p)) ?? (await this.store.refundByAfterSales(p.afterSalesId));
        }
        if (!r) throw retryableError("refund could not be recorded, try again");
        if (r.orderNo !== p.orderNo || Number(r.amount) !== p.amount || (p.paymentNo && p.paymentNo !== r.paymentNo)) {
          throw bizError("REFUND_CONFLICT", undefined, { afterSalesId: p.afterSalesId, refundNo: r.refundNo });
        }
        if (r.status === "PENDING") await this.executeRefund(r.refundNo);
        return refundDto((await this.store.refund(r.refundNo))!);
      },
    },

    byOrder: {
      visibility: "public",
      summary: "Internal: the payments of an order, with their refunds",
      params: { orderNo: ORDER_NO },
      async handler(this: PaymentsThis, ctx: Context<{ orderNo: string }>): Promise<PaymentDto[]> {
        return Promise.all((await this.store.paymentsOf(ctx.params.orderNo)).map((p) => this.toDto(p, true)));
      },
    },
  },

  methods: {
    async toDto(this: PaymentsThis, p: PaymentAttrs, withRefunds = false): Promise<PaymentDto> {
      const dto = paymentDto(p);
      if (p.channel === "sandbox" && p.status === "PENDING") dto.payUrl = `${this.cfg.publicBaseUrl ?? ""}${payPagePath(p.paymentNo)}`;
      if (withRefunds) dto.refunds = await this.store.refundsOf(p.paymentNo);
      return dto;
    },

    /** The caller's own payment, or any for operators/admins; someone else's is 404. */
    async visiblePayment(this: PaymentsThis, ctx: Ctx<{ paymentNo: string }>): Promise<PaymentAttrs> {
      const p = await this.store.payment(ctx.params.paymentNo);
      const user = ctx.meta.user!;
      const staff = user.roles.includes("admin") || user.roles.includes("operator");
      if (!p || (!staff && Number(p.userId) !== user.id)) throw bizError("PAYMENT_NOT_FOUND");
      return p;
    },

    payByWallet(this: PaymentsThis, p: PaymentAttrs): Promise<PaymentAttrs> {
      return payByWallet(this, p);
    },

    executeRefund(this: PaymentsThis, refundNo: string): Promise<void> {
      return executeRefund(this, refundNo);
    },

    assertChannelEnabled(this: PaymentsThis, channel: PaymentChannel): void {
      const channels = enabledChannels(this.cfg.sandboxEnabled);
      if (!channels.includes(channel)) throw bizError("PAYMENT_CHANNEL_UNAVAILABLE", `the ${channel} channel is not enabled here`, { channel, channels });
    },

    /**
     * The sandbox "provider" sends its signed callback: over HTTP to PUBLIC_BASE_URL when there
     * is one (the notify route is exempt from the client rate limit), else through the cluster.
     * A callback that does not get through is the provider's outage as far as the buyer is
     * concerned: a retryable 503, never a statement about the payment.
     */
    async deliverSandboxCallback(this: PaymentsThis, ctx: Ctx<unknown>, p: PaymentAttrs, result: "SUCCESS" | "FAIL"): Promise<void> {
      const signed = signedCallback(this.cfg.sandboxSecret, { paymentNo: p.paymentNo, amount: Number(p.amount), currency: p.currency }, result);
      const base = this.cfg.publicBaseUrl;
      let failure: string;
      try {
        if (!base) {
          // a call of its own, not a child of the buyer's request: the provider is the caller
          // (no buyer identity in its meta, and nothing of its meta merged back into the buyer's)
          await this.broker.call(PaymentActions.NOTIFY_SANDBOX, signed.callback, {
            requestID: ctx.requestID ?? undefined,
            meta: { rawBody: signed.rawBody, headers: { [SIGNATURE_HEADER]: signed.signature }, requestId: ctx.meta.requestId },
          });
          return;
        }
        const answer = await postCallback(base, signed);
        if (answer.status < 300) return;
        failure = `${base} answered ${answer.status} ${(answer.body as { type?: string })?.type ?? ""}`.trim();
      } catch (err) {
        const e = err as { type?: string; message?: string };
        failure = `${base ?? PaymentActions.NOTIFY_SANDBOX} failed: ${e?.type ?? ""} ${e?.message ?? err}`;
      }
      this.logger.warn(`sandbox callback for ${p.paymentNo} not delivered (${failure})`);
      throw retryableError(`the sandbox provider could not deliver its callback for ${p.paymentNo}; try again`, "SERVICE_UNAVAILABLE", { paymentNo: p.paymentNo });
    },

    sweep(this: PaymentsThis): Promise<void> {
      return sweepStale(this, () => !!this.$stopping);
    },
  },

  created(this: PaymentsThis) {
    this.cfg = configOf(this);
    this.store = new PaymentStore({ sequelize: this.sequelize, models: this.models, outbox: (t, ch, data) => this.outbox(t, ch, data) });
  },

  started(this: PaymentsThis) {
    this.$stopping = false;
    const tick = () => {
      if (this.$stopping) return;
      this.$sweeping = true;
      this.$sweepRun = this.sweep()
        .catch((err) => this.logger.warn("payments sweep failed; will retry", (err as Error)?.message))
        .finally(() => {
          this.$sweeping = false;
          this.$sweepRun = undefined;
          if (!this.$stopping) this.$sweepTimer = setTimeout(tick, SWEEP_EVERY_MS + Math.random() * 1000);
        });
    };
    this.$sweepTimer = setTimeout(tick, SWEEP_EVERY_MS);
  },

  async stopped(this: PaymentsThis) {
    this.$stopping = true;
    if (this.$sweepTimer) clearTimeout(this.$sweepTimer);
    // a sweep in flight finishes before the database closes under it
    if (this.$sweepRun) await this.$sweepRun;
  },
};

export default PaymentsService as unknown as ServiceSchema;
