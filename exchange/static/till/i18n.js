// The till's words, Chinese first (SPEC §8), and what each refusal means to a cashier.
// Pure: the DOM side is applyLanguage() in app.js, which fills [data-i18n] elements.
import { formatFen } from "./money.js";
import { STRINGS } from "./strings.js";

let current = "zh";

export const LANGUAGES = ["zh", "en"];

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "zh";
  return current;
}

export function language() {
  return current;
}

// t("paid", {amount: "¥220.00"}) in the current language; a missing key shows as itself.
export function t(key, vars = {}, lang = current) {
  const text = STRINGS[lang]?.[key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// Refusals a cashier must tell apart (SPEC §5), then the till's own (pairing, keys, network).
const PROBLEMS = new Set([
  "invalid_signature", "malformed_payload", "unknown_coupon", "coupon_exhausted", "coupon_expired",
  "coupon_revoked", "not_accepted_here", "partnership_inactive", "below_min_spend", "budget_exhausted",
  "owner_suspended",
  "idempotency_conflict", "idempotency_in_progress", "rate_limited", "offer_not_started", "offer_paused",
  "customer_limit_reached", "commission_cap_reached", "already_reversed", "refund_exceeds_paid",
  "pairing_code_malformed", "pairing_code_unknown", "pairing_code_used", "pairing_code_expired",
  "invalid_key", "missing_key", "merchant_suspended", "wrong_store", "wrong_key_kind", "network_error",
  "authentication_throttled", "database_unavailable", "database_not_writable",
  "server_error", "validation_failed",
  "offline_needs_qr", "offline_no_catalog", "offline_pack_unsupported", "offline_coupon_unknown",
  "offline_double_spend", "offline_limit_reached", "offline_at_too_old", "offline_at_in_future",
  "refund_of_refused_redemption",
]);

// A problem+json (or a verify answer with valid: false) in plain words for the cashier.
export function problemMessage(problem, lang = current) {
  const code = problem?.code;
  const status = problem?.status ?? 0;
  if (code === "below_min_spend" && Number.isInteger(problem.min_spend)) {
    return t("problem.below_min_spend_amount", { amount: formatFen(problem.min_spend) }, lang);
  }
  if (code === "offer_not_started" && typeof problem.usable_from === "string") {
    // The exchange gives the local time with its offset: the date and time as the shop reads them.
    const from = problem.usable_from.slice(0, 16).replace("T", " ");
    return t("problem.offer_not_started_from", { from }, lang);
  }
  if (code === "refund_exceeds_paid" && Number.isInteger(problem.refundable)) {
    return t("problem.refund_exceeds_paid_amount", { amount: formatFen(problem.refundable) }, lang);
  }
  if (code === "offline_catalog_stale") return t("problem.offline_catalog_stale", { hours: problem.hours }, lang);
  if (code === "offline_limit_count") return t("problem.offline_limit_count", { limit: problem.limit }, lang);
  if (code === "offline_limit_discount") {
    return t("problem.offline_limit_discount", { amount: formatFen(problem.limit) }, lang);
  }
  if (PROBLEMS.has(code)) return t(`problem.${code}`, {}, lang);
  if (status >= 500) return t("problem.server_error", {}, lang);
  return t("problem.other", { code: code ?? status }, lang);
}
