// A refund, full or part, with a reason; the exchange claws the commission back pro rata.
// One Idempotency-Key per refund attempt, reused on its retries, as for a redemption.
import { newIdempotencyKey } from "../api.js";
import { $, busy, setError } from "../dom.js";
import { problemMessage, t } from "../i18n.js";
import { fenToInput, formatFen, parseYuan } from "../money.js";

let shown = null;     // {redemption, title, back}
let attempt = null;   // {key, redemptionId, amount, reason, inFlight}

const left = () => shown.redemption.paid_amount - (shown.redemption.refunded_amount ?? 0);

function label() {
  const amount = parseYuan($("refund-amount").value);
  $("refund-button").textContent = t("refund_confirm", { amount: amount.fen ? formatFen(amount.fen) : "" });
}

async function submit(ctx) {
  if (attempt?.inFlight) return;
  const amount = parseYuan($("refund-amount").value);
  const reason = $("refund-reason").value.trim();
  let amountError = amount.error ? t(`amount.${amount.error}`) : null;
  if (!amountError && amount.fen > left()) {
    amountError = t("problem.refund_exceeds_paid_amount", { amount: formatFen(left()) });
  }
  setError($("refund-amount"), $("refund-amount-error"), amountError);
  setError($("refund-reason"), $("refund-reason-error"), reason ? null : t("reason_required"));
  if (amountError) return $("refund-amount").focus();
  if (!reason) return $("refund-reason").focus();
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

function showResult(ctx, reversal) {
  $("refund-left").textContent = formatFen(left());
  $("refund-form").hidden = true;
  $("refund-result").hidden = false;
  $("refund-result-text").textContent = t("refund_done", { amount: formatFen(reversal.refund_amount) });
  $("refund-clawback").textContent = t("clawback", { amount: formatFen(reversal.commission_clawback) });
  $("refund-restored").hidden = !reversal.use_restored;
  ctx.announce(`${t("refund_done", { amount: formatFen(reversal.refund_amount) })}. ${t("clawback", {
    amount: formatFen(reversal.commission_clawback) })}`);
  $("refund-result-title").focus();
}

function back(ctx) {
  if (shown.back === "today") ctx.show("today");
  else ctx.show("receipt", { redemption: shown.redemption, title: shown.title, announce: false });
}

export function init(ctx) {
  $("refund-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submit(ctx);
  });
  $("refund-amount").addEventListener("input", label);
  $("refund-full").addEventListener("click", () => {
    $("refund-amount").value = fenToInput(left());
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
}

export function enter(ctx, arg) {
  shown = { ...arg };
  attempt = null;
  const r = shown.redemption;
  $("refund-form").hidden = false;
  $("refund-result").hidden = true;
  $("refund-status").hidden = true;
  $("refund-code").textContent = r.coupon_code;
  $("refund-paid").textContent = formatFen(r.paid_amount);
  $("refund-left").textContent = formatFen(left());
  $("refund-amount").value = fenToInput(left());
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
