// The sale: scan (or type) the coupon, type the order amount, verify, redeem with one tap.
// One attempt = one Idempotency-Key, made when the coupon is verified and reused on every retry
// of its redemption, so a double tap or a dropped connection never redeems twice.
import { newIdempotencyKey } from "../api.js";
import { readCoupon } from "../codes.js";
import { $, busy, setError } from "../dom.js";
import { problemMessage, t } from "../i18n.js";
import { formatFen, parseYuan } from "../money.js";
import { assessOffline } from "../offline.js";
import { createScanner } from "../scanner.js";

let scanner = null;
let scanned = null;   // the payload the camera read, until the cashier types instead
let attempt = null;   // {key, payload, orderAmount, title, inFlight}
let cameraState = "stopped";
let refused = null;   // the last refusal's problem, to tell it again in another language
let active = false;

const CAMERA_HINTS = { denied: "camera_denied", missing: "camera_missing", insecure: "camera_insecure" };

function resetVerdict() {
  attempt = null;
  $("verify-button").classList.replace("secondary", "primary");
  $("verdict").hidden = true;
  $("verdict").classList.remove("is-ok", "is-refused");
  $("redeem-status").hidden = true;
}

function reset() {
  resetVerdict();
  scanned = null;
  $("coupon-input").value = "";
  $("coupon-input").placeholder = "";
  $("coupon-input").classList.remove("is-scanned");
  $("amount-input").value = "";
  for (const [input, error] of [["coupon-input", "coupon-error"], ["amount-input", "amount-error"]]) {
    setError($(input), $(error), null);
  }
}

function showCameraState(state) {
  cameraState = state;
  const hint = CAMERA_HINTS[state];
  $("camera-hint").hidden = !hint;
  $("camera-hint").textContent = hint ? t(hint) : "";
  $("camera-state").textContent = state === "starting" ? t("camera_starting")
    : scanned && state === "stopped" ? `✓ ${t("scanned")}` : "";
  // No camera to use: the box goes, the hint and the code field take its place. A coupon just
  // scanned: the box shrinks, so the amount and the verdict fit on a phone without scrolling.
  document.querySelector("#view-sale .camera").classList.toggle("is-off", Boolean(hint));
  document.querySelector("#view-sale .camera").classList.toggle("is-idle", state === "stopped");
  $("rescan").hidden = state !== "stopped" || !active;
  $("camera-switch").hidden = state !== "scanning" || !scanner.canSwitch();
  if (state === "scanning") scanner.hasTorch().then((has) => { $("torch").hidden = !has; });
  else $("torch").hidden = true;
}

function onCode(text) {
  const coupon = readCoupon(text);
  if (!coupon || !active) return;
  scanned = coupon.payload;
  scanner.stop();
  resetVerdict();
  $("coupon-input").value = coupon.display ?? "";
  $("coupon-input").placeholder = `✓ ${t("scanned")}`;
  $("coupon-input").classList.add("is-scanned");
  setError($("coupon-input"), $("coupon-error"), null);
  showCameraState("stopped");
  ctxRef.announce(coupon.display ? t("scanned_code", { code: coupon.display }) : t("scanned"));
  $("amount-input").focus();
}

let ctxRef = null;

function payload() {
  const typed = $("coupon-input").value.trim();
  if (scanned && (!typed || typed === readCoupon(scanned)?.display)) return { payload: scanned };
  if (!typed) return { error: "coupon.empty" };
  const coupon = readCoupon(typed);
  return coupon ? { payload: coupon.payload } : { error: "coupon.invalid" };
}

async function verify(ctx) {
  const coupon = payload();
  const amount = parseYuan($("amount-input").value);
  setError($("coupon-input"), $("coupon-error"), coupon.error ? t(coupon.error) : null);
  setError($("amount-input"), $("amount-error"), amount.error ? t(`amount.${amount.error}`) : null);
  if (coupon.error) return $("coupon-input").focus();
  if (amount.error) return $("amount-input").focus();
  resetVerdict();
  busy($("verify-button"), true, t("verifying"));
  try {
    if (!navigator.onLine) return await verifyOffline(ctx, coupon.payload, amount.fen);
    const answer = await ctx.api.verify(coupon.payload, amount.fen);
    if (answer.valid) {
      attempt = { key: newIdempotencyKey(), payload: coupon.payload, orderAmount: amount.fen, title: answer.title };
      showValid(ctx, answer, amount.fen);
    } else {
      showRefusal(ctx, answer);
    }
  } catch (error) {
    if (error.code === "network_error") return await verifyOffline(ctx, coupon.payload, amount.fen);
    showRefusal(ctx, error.problem);
  } finally {
    busy($("verify-button"), false, t("verify"));
  }
}

// No network: the coupon checked against the cached keys and catalog, within the store's limits.
async function verifyOffline(ctx, payload, orderAmount) {
  const { catalog, jwks } = ctx.offlineData();
  const result = await assessOffline({ payload, orderAmount, catalog, jwks, queue: ctx.queue.items() });
  if (!result.ok) return showRefusal(ctx, { ...result, code: result.refused, offline: true });
  attempt = { offline: true, key: newIdempotencyKey(), payload, orderAmount, title: result.offer.title,
    couponId: result.couponId, offerId: result.offer.id, discount: result.discount, code: result.code };
  return showValid(ctx, { discount: result.discount, payable: result.payable, title: result.offer.title,
    coupon_code: result.code }, orderAmount);
}

// The order number an offline redemption is known by, here, in the sync and in the merchant's report.
function orderRef(ctx, key) {
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(2, 14);
  return `OFF-${ctx.pairing()?.tillId ?? 0}-${stamp}-${key.slice(0, 4).toUpperCase()}`;
}

function showValid(ctx, answer, orderAmount) {
  if (answer.coupon_code) $("coupon-input").value = answer.coupon_code;
  $("offer-title").textContent = answer.title ?? "";
  $("verdict-order").textContent = formatFen(orderAmount);
  $("verdict-discount").textContent = formatFen(-answer.discount);
  $("verdict-payable").textContent = formatFen(answer.payable);
  attempt.payable = answer.payable;
  // Offline: what the till alone decided, in amber, with words that never say "done".
  const offline = Boolean(attempt.offline);
  $("verdict-ok-title").textContent = t(offline ? "valid_offline_title" : "valid_title");
  $("verdict-ok-title").className = offline ? "pending" : "ok";
  $("offline-note").hidden = !offline;
  $("verdict").classList.toggle("is-offline", offline);
  busy($("redeem-button"), false, redeemLabel());
  $("verdict-ok").hidden = false;
  $("verdict-refused").hidden = true;
  $("verdict").classList.add("is-ok");
  // One red button on the screen: the one to tap next.
  $("verify-button").classList.replace("primary", "secondary");
  $("verdict").hidden = false;
  ctx.announce(t("verdict_valid", { discount: formatFen(answer.discount), payable: formatFen(answer.payable) }));
  $("redeem-button").focus();
}

function redeemLabel() {
  return t(attempt.offline ? "redeem_offline" : "redeem_pay", { amount: formatFen(attempt.payable) });
}

function showRefusal(ctx, problem) {
  resetVerdict();
  refused = problem;
  const reason = problem?.offline ? `${t("refused_offline")} ${problemMessage(problem)}` : problemMessage(problem);
  $("refusal").textContent = reason;
  $("verdict-ok").hidden = true;
  $("verdict-refused").hidden = false;
  $("verdict").classList.add("is-refused");
  $("verdict").hidden = false;
  ctx.announce(t("verdict_refused", { reason }));
  $("verdict-next").focus();
}

async function redeem(ctx) {
  if (!attempt || attempt.inFlight) return;   // a second tap while the first is on its way
  const mine = attempt;
  mine.inFlight = true;
  busy($("redeem-button"), true, t("redeeming"));
  $("redeem-status").hidden = true;
  if (mine.offline) return queueOffline(ctx, mine);
  try {
    const redemption = await ctx.api.redeem(mine, (n) => {
      $("redeem-status").hidden = false;
      $("redeem-status").textContent = t("retrying", { n });
    });
    attempt = null;
    ctx.show("receipt", { redemption, title: mine.title });
  } catch (error) {
    mine.inFlight = false;
    if (error.retryable) {
      // Not known to have happened: the same attempt (and key) is tried again on the next tap.
      $("redeem-status").hidden = false;
      $("redeem-status").textContent = t("not_confirmed");
      busy($("redeem-button"), false, t("retry"));
      ctx.announce(t("not_confirmed"));
      $("redeem-button").focus();
    } else {
      showRefusal(ctx, error.problem);
    }
  }
}

// Kept on the device (written before the cashier is told), then sent when the network is back.
async function queueOffline(ctx, mine) {
  const item = { key: mine.key, payload: mine.payload, orderAmount: mine.orderAmount, orderRef: orderRef(ctx, mine.key),
    offlineAt: new Date().toISOString(), couponId: mine.couponId, offerId: mine.offerId, discount: mine.discount,
    payable: mine.payable, code: mine.code, title: mine.title };
  await ctx.queue.add(item);
  attempt = null;
  ctx.askBackgroundSync();
  ctx.show("receipt", { pending: item, title: mine.title });
  if (navigator.onLine) ctx.sync();
}

export function init(ctx) {
  ctxRef = ctx;
  scanner = createScanner($("camera-video"), { onCode, onState: showCameraState });
  $("sale-form").addEventListener("submit", (event) => {
    event.preventDefault();
    verify(ctx);
  });
  $("coupon-input").addEventListener("input", () => {
    scanned = null;
    $("coupon-input").classList.remove("is-scanned");
    resetVerdict();
  });
  $("amount-input").addEventListener("input", resetVerdict);
  // A keyboard-wedge scanner types the link and presses Enter: go on to the amount.
  $("coupon-input").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || $("amount-input").value.trim()) return;
    event.preventDefault();
    $("amount-input").focus();
  });
  // Keys typed with no field focused are a scanner's (or a cashier starting over): a new coupon.
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement?.tagName);
    if (!active || typing || event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return;
    scanned = null;
    resetVerdict();
    $("coupon-input").value = "";
    $("coupon-input").focus();
  });
  $("redeem-button").addEventListener("click", () => redeem(ctx));
  for (const id of ["verdict-next", "clear-button"]) {
    $(id).addEventListener("click", () => { ctx.show("sale"); });
  }
  $("rescan").addEventListener("click", () => scanner.start());
  $("camera-switch").addEventListener("click", () => scanner.switchCamera());
  $("torch").addEventListener("click", async () => {
    const on = await scanner.toggleTorch();
    $("torch").setAttribute("aria-pressed", String(on));
    $("torch").textContent = t(on ? "torch_off" : "torch_on");
  });
}

export function enter(ctx) {
  active = true;
  reset();
  $("sale-title").focus();
  scanner.start();
}

export function leave() {
  active = false;
  scanner.stop();
}

export function relabel() {
  showCameraState(cameraState);
  if (scanned && $("coupon-input").classList.contains("is-scanned")) $("coupon-input").placeholder = `✓ ${t("scanned")}`;
  if (!$("verdict-refused").hidden && refused) $("refusal").textContent = problemMessage(refused);
  if (attempt && !attempt.inFlight) $("redeem-button").textContent = redeemLabel();
}
