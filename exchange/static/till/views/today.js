// Today at this store: totals, then each redemption (tap for its receipt and a refund) and refund.
import { $, el, shopTime } from "../dom.js";
import { problemMessage, t } from "../i18n.js";
import { formatFen } from "../money.js";

let day = null;

const TOTALS = [["totals_count", (x) => String(x.redemptions)], ["totals_paid", (x) => formatFen(x.paid_amount)],
  ["totals_discount", (x) => formatFen(x.discount)], ["totals_order", (x) => formatFen(x.order_amount)],
  ["totals_refunded", (x) => formatFen(x.refunded_amount)], ["totals_net", (x) => formatFen(x.net_amount)]];

function render(ctx) {
  $("today-date").textContent = t("today_date", { date: day.date });
  $("today-totals").replaceChildren(...TOTALS.map(([key, value]) =>
    el("div", {}, el("dt", { text: t(key) }), el("dd", { text: value(day.totals) }))));
  const sold = day.redemptions.map((r) => el("li", {}, el("button", { attrs: { type: "button" } },
    el("span", { text: shopTime(r.redeemed_at, { date: false }) }),
    el("span", { className: "mono", text: r.coupon_code }),
    el("span", { className: "amount-cell", text: formatFen(r.paid_amount) }),
    el("span", { className: "status", text: `${t(`status_${r.status}`)} · ${t("discount")} ${formatFen(r.discount)} · #${r.id}` }))));
  for (const [i, button] of sold.map((li) => li.firstChild).entries()) {
    button.addEventListener("click", () => ctx.show("receipt", { redemption: day.redemptions[i], announce: false }));
  }
  $("today-redemptions").replaceChildren(...(sold.length ? sold : [el("li", { className: "muted", text: t("today_none") })]));
  const refunds = day.refunds.map((x) => el("li", {}, el("div", { className: "static" },
    el("span", { text: shopTime(x.reversed_at, { date: false }) }),
    el("span", { className: "mono", text: x.coupon_code }),
    el("span", { className: "amount-cell", text: formatFen(-x.refund_amount) }),
    el("span", { className: "status", text: `${x.reason} · ${t("clawback", { amount: formatFen(x.commission_clawback) })}` }))));
  $("today-refunds").replaceChildren(...(refunds.length ? refunds : [el("li", { className: "muted", text: t("today_no_refunds") })]));
  $("today-more").hidden = day.complete;
}

async function load(ctx) {
  $("today-error").textContent = "";
  // Offline the day's figures are the exchange's to give; the offline list above is this till's.
  if (!navigator.onLine) {
    $("today-error").textContent = t("today_offline");
    return;
  }
  try {
    day = await ctx.api.day();
    render(ctx);
  } catch (error) {
    $("today-error").textContent = problemMessage(error.problem);
  }
}

export function init(ctx) {
  $("today-refresh").addEventListener("click", () => load(ctx));
}

export function enter(ctx) {
  $("today-title").focus();
  // Opening the list is seeing its refusals: the line under the banner stops counting them.
  for (const item of ctx.queue.items()) if (item.state === "refused" && !item.seen) ctx.queue.acknowledge(item.key);
  load(ctx);
}

export function relabel(ctx) {
  if (day) render(ctx);
}
