// The receipt: what was redeemed, for the cashier to read out; then the next customer, or a refund.
import { $, shopTime } from "../dom.js";
import { t } from "../i18n.js";
import { formatFen } from "../money.js";
import { leftToRefund } from "./refund.js";

let shown = null;  // {redemption, title} or, offline, {pending, title}

// A redemption only this till knows of: the amounts to collect, never a "done" or a number.
function fillPending(ctx) {
  const p = shown.pending;
  $("receipt-title").textContent = t("receipt_pending_title");
  $("receipt-title").className = "pending";
  $("receipt-pending").hidden = false;
  $("receipt-offer").textContent = shown.title ?? "";
  $("receipt-code").textContent = p.code ?? `#${p.couponId}`;
  $("receipt-order").textContent = formatFen(p.orderAmount);
  $("receipt-discount").textContent = formatFen(-p.discount);
  $("receipt-paid").textContent = formatFen(p.payable);
  $("receipt-refunded").textContent = formatFen(0);
  $("receipt-time").textContent = shopTime(p.offlineAt);
  $("receipt-id").textContent = `${t("state_pending")} · ${p.orderRef}`;
  // Refunded through the queue, after it (and only once the exchange accepted it).
  $("receipt-refund").hidden = leftToRefund(ctx, shown) === 0;
}

function fill(ctx) {
  $("receipt-title").textContent = t("receipt_title");
  $("receipt-title").className = "ok";
  $("receipt-pending").hidden = true;
  if (shown.pending) return fillPending(ctx);
  const r = shown.redemption;
  $("receipt-offer").textContent = shown.title ?? "";
  $("receipt-code").textContent = r.coupon_code;
  $("receipt-order").textContent = formatFen(r.order_amount);
  $("receipt-discount").textContent = formatFen(-r.discount);
  $("receipt-paid").textContent = formatFen(r.paid_amount);
  $("receipt-refunded").textContent = formatFen(r.refunded_amount ?? 0);
  $("receipt-time").textContent = shopTime(r.redeemed_at);
  $("receipt-id").textContent = `#${r.id}`;
  $("receipt-refund").hidden = leftToRefund(ctx, shown) === 0;
}

export function init(ctx) {
  $("receipt-next").addEventListener("click", () => ctx.show("sale"));
  $("receipt-refund").addEventListener("click", () => ctx.show("refund", { ...shown, back: "receipt" }));
}

export function enter(ctx, arg) {
  if (arg) shown = arg;
  fill(ctx);
  if (arg?.announce !== false) {
    ctx.announce(shown.pending ? t("receipt_pending_announce", { paid: formatFen(shown.pending.payable) })
      : t("receipt_announce", { paid: formatFen(shown.redemption.paid_amount) }));
  }
  $("receipt-title").focus();
}

export function relabel(ctx) {
  if (shown) fill(ctx);
}
