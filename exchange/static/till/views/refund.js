// A refund, full or part, with a reason; the exchange claws the commission back pro rata.
// One Idempotency-Key per refund attempt, reused on its retries, as for a redemption. Offline, a
// refund of a redemption this till knows (confirmed, or still in its queue) is queued after it
// (queue.js), within what is left to refund as the exchange counts it (pricing.js checkRefund).
import { newIdempotencyKey } from "../api.js";
import { $, busy, setError } from "../dom.js";
import { problemMessage, t } from "../i18n.js";
import { fenToInput, formatFen, parseYuan } from "../money.js";
import { checkRefund } from "../pricing.js";

let shown = null;     // {redemption, title, back} or, for a redemption still queued, {pending, title, back}
let attempt = null;   // {key, redemptionId, amount, reason, inFlight}

// The redemption as the queue knows it now: a queued one may have been synced (or refused) meanwhile.
function queuedNow(ctx, pending) {
  return ctx.queue.items().find((i) => i.key === pending.key) ?? pending;
}

// What the customer paid and what was refunded of it, by the exchange or in this till's queue.
function refundState(ctx, view) {
  if (view.pending) {
    const item = queuedNow(ctx, view.pending);
    const queued = ctx.queue.refundsOf({ key: item.key, id: item.redemption?.id });
    return { paid: item.payable, refundedSoFar: queued.reduce((sum, i) => sum + i.amount, 0), item };
  }
  const r = view.redemption;
  // Queued refunds of a confirmed redemption count until they are synced (then the exchange's figure has them).
  const queued = ctx.queue.refundsOf({ id: r.id }).filter((i) => i.state === "pending");
  return { paid: r.paid_amount, refundedSoFar: (r.refunded_amount ?? 0) + queued.reduce((sum, i) => sum + i.amount, 0) };
}

// What is left to refund of a receipt's redemption (0: nothing; the refund button is hidden).
export function leftToRefund(ctx, view) {
  const { paid, refundedSoFar } = refundState(ctx, view);
  return Math.max(paid - refundedSoFar, 0);
}

const left = (ctx) => leftToRefund(ctx, shown);
const offline = () => !navigator.onLine;

function label() {
  const amount = parseYuan($("refund-amount").value);
  const text = amount.fen ? formatFen(amount.fen) : "";
  $("refund-button").textContent = t(offline() ? "refund_offline" : "refund_confirm", { amount: text });
}

async function submit(ctx) {
  if (attempt?.inFlight) return;
  const amount = parseYuan($("refund-amount").value);
  const reason = $("refund-reason").value.trim();
  let amountError = amount.error ? t(`amount.${amount.error}`) : null;
  const { paid, refundedSoFar, item } = refundState(ctx, shown);
  const check = checkRefund({ paid, refundedSoFar, refund: amount.fen ?? 0 });
  if (!amountError && check.refused) {
    amountError = t("problem.refund_exceeds_paid_amount", { amount: formatFen(check.refundable) });
  }
  if (!amountError && item?.state === "refused") amountError = t("problem.refund_of_refused_redemption");
  setError($("refund-amount"), $("refund-amount-error"), amountError);
  setError($("refund-reason"), $("refund-reason-error"), reason ? null : t("reason_required"));
  if (amountError) return $("refund-amount").focus();
  if (!reason) return $("refund-reason").focus();
  if (shown.pending || offline()) return queueRefund(ctx, amount.fen, reason, item);
  if (!attempt || attempt.amount !== amount.fen || attempt.reason !== reason) {
    attempt = { key: newIdempotencyKey(), redemptionId: shown.redemption.id, amount: amount.fen, reason };
  }
  const mine = attempt;
  mine.inFlight = true;
  busy($("refund-button"), true, t("refunding"));
  $("refund-status").hidden = true;
  try {
    const reversal = await ctx.api.refund(mine, (n) => {
      $("refund-status").hidden = false;
      $("refund-status").textContent = t("retrying", { n });
    });
    attempt = null;
    shown.redemption = { ...shown.redemption, refunded_amount: (shown.redemption.refunded_amount ?? 0) + reversal.refund_amount };
    showResult(ctx, reversal);
  } catch (error) {
    mine.inFlight = false;
    if (!error.retryable) attempt = null;
    $("refund-status").hidden = false;
    $("refund-status").textContent = problemMessage(error.problem);
    ctx.announce(problemMessage(error.problem));
    busy($("refund-button"), false);
    label();
    $("refund-button").focus();
  }
}

// Kept on the device, after the redemption it refunds, before the cashier is told; sent in order.
// A redemption still queued is refunded through the queue even online, so it goes out after it.
async function queueRefund(ctx, amount, reason, item) {
  attempt = { inFlight: true };   // one tap, one queued refund
  const r = shown.redemption;
  const synced = item?.state === "synced" ? item.redemption.id : null;
  const refund = { kind: "refund", key: newIdempotencyKey(), amount, reason, offlineAt: new Date().toISOString(),
    redemptionId: r?.id ?? synced, redemptionKey: item && !synced ? item.key : null,
    orderRef: r?.order_ref ?? item?.orderRef ?? null,
    code: r?.coupon_code ?? item?.code ?? (item?.couponId ? `#${item.couponId}` : null) };
  await ctx.queue.add(refund);
  ctx.askBackgroundSync();
  $("refund-left").textContent = formatFen(left(ctx));
  $("refund-form").hidden = true;
  $("refund-result").hidden = false;
  // data-i18n too: a switch of language keeps it the pending title, never the done one.
  $("refund-result-title").dataset.i18n = "refund_pending_title";
  $("refund-result-title").textContent = t("refund_pending_title");
  $("refund-result-title").className = "pending";
  $("refund-result-text").textContent = t("refund_pending", { amount: formatFen(amount) });
  $("refund-clawback").hidden = true;
  $("refund-restored").hidden = true;
  $("refund-pending-note").hidden = false;
  ctx.announce(`${t("refund_pending_title")}. ${t("refund_pending", { amount: formatFen(amount) })}`);
  $("refund-result-title").focus();
  if (navigator.onLine) ctx.sync();
}

function showResult(ctx, reversal) {
  $("refund-left").textContent = formatFen(left(ctx));
  $("refund-form").hidden = true;
  $("refund-result").hidden = false;
  $("refund-result-title").dataset.i18n = "refund_done_title";
  $("refund-result-title").textContent = t("refund_done_title");
  $("refund-result-title").className = "ok";
  $("refund-pending-note").hidden = true;
  $("refund-clawback").hidden = false;
  $("refund-result-text").textContent = t("refund_done", { amount: formatFen(reversal.refund_amount) });
  $("refund-clawback").textContent = t("clawback", { amount: formatFen(reversal.commission_clawback) });
  $("refund-restored").hidden = !reversal.use_restored;
  ctx.announce(`${t("refund_done", { amount: formatFen(reversal.refund_amount) })}. ${t("clawback", {
    amount: formatFen(reversal.commission_clawback) })}`);
  $("refund-result-title").focus();
}

function back(ctx) {
  if (shown.back === "today") ctx.show("today");
  else ctx.show("receipt", { ...shown, announce: false });
}

export function init(ctx) {
  $("refund-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submit(ctx);
  });
  $("refund-amount").addEventListener("input", label);
  $("refund-full").addEventListener("click", () => {
    $("refund-amount").value = fenToInput(left(ctx));
    label();
  });
  for (const chip of document.querySelectorAll("#view-refund [data-reason]")) {
    chip.addEventListener("click", () => {
      $("refund-reason").value = t(chip.dataset.reason);
      for (const other of document.querySelectorAll("#view-refund [data-reason]")) {
        other.setAttribute("aria-pressed", String(other === chip));
      }
    });
  }
  $("refund-back").addEventListener("click", () => back(ctx));
  $("refund-done").addEventListener("click", () => back(ctx));
  window.addEventListener("online", label);
  window.addEventListener("offline", label);
}

export function enter(ctx, arg) {
  shown = { ...arg };
  attempt = null;
  const r = shown.redemption;
  const p = shown.pending;
  $("refund-form").hidden = false;
  $("refund-result").hidden = true;
  $("refund-status").hidden = true;
  $("refund-code").textContent = r?.coupon_code ?? p.code ?? `#${p.couponId}`;
  $("refund-paid").textContent = formatFen(r ? r.paid_amount : p.payable);
  $("refund-left").textContent = formatFen(left(ctx));
  $("refund-amount").value = fenToInput(left(ctx));
  $("refund-reason").value = "";
  for (const chip of document.querySelectorAll("#view-refund [data-reason]")) chip.setAttribute("aria-pressed", "false");
  setError($("refund-amount"), $("refund-amount-error"), null);
  setError($("refund-reason"), $("refund-reason-error"), null);
  busy($("refund-button"), false);
  label();
  $("refund-title").focus();
}

export function relabel() {
  if (shown) label();
}
