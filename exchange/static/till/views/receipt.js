// The receipt: what was redeemed, for the cashier to read out; then the next customer, or a refund.
import { $, shopTime } from "../dom.js";
import { t } from "../i18n.js";
import { formatFen } from "../money.js";

let shown = null;  // {redemption, title}

function fill() {
  const r = shown.redemption;
  $("receipt-offer").textContent = shown.title ?? "";
  $("receipt-code").textContent = r.coupon_code;
  $("receipt-order").textContent = formatFen(r.order_amount);
  $("receipt-discount").textContent = formatFen(-r.discount);
  $("receipt-paid").textContent = formatFen(r.paid_amount);
  $("receipt-refunded").textContent = formatFen(r.refunded_amount ?? 0);
  $("receipt-time").textContent = shopTime(r.redeemed_at);
  $("receipt-id").textContent = `#${r.id}`;
  $("receipt-refund").hidden = (r.refunded_amount ?? 0) >= r.paid_amount;
}

export function init(ctx) {
  $("receipt-next").addEventListener("click", () => ctx.show("sale"));
  $("receipt-refund").addEventListener("click", () => ctx.show("refund", { ...shown, back: "receipt" }));
}

export function enter(ctx, arg) {
  if (arg) shown = arg;
  fill();
  if (arg?.announce !== false) ctx.announce(t("receipt_announce", { paid: formatFen(shown.redemption.paid_amount) }));
  $("receipt-title").focus();
}

export function relabel() {
  if (shown) fill();
}
