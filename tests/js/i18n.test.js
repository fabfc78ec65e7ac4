// node --test: every refusal the exchange can give becomes plain words, in Chinese and English.
import assert from "node:assert/strict";
import { test } from "node:test";

import { problemMessage, setLanguage, t } from "../../exchange/static/till/i18n.js";
import { STRINGS } from "../../exchange/static/till/strings.js";

// SPEC §5: the refusal codes a cashier must be able to tell apart.
const CASHIER_CODES = ["invalid_signature", "malformed_payload", "unknown_coupon", "coupon_exhausted",
  "coupon_expired", "coupon_revoked", "not_accepted_here", "partnership_inactive", "below_min_spend",
  "budget_exhausted", "idempotency_conflict", "rate_limited"];

test("each refusal code a cashier must tell apart has its own words in both languages", () => {
  for (const lang of ["zh", "en"]) {
    const messages = CASHIER_CODES.map((code) => problemMessage({ code, status: 409, detail: "x" }, lang));
    assert.equal(new Set(messages).size, CASHIER_CODES.length, lang);
    for (const message of messages) assert.doesNotMatch(message, /problem\.|\{/, lang);
  }
  assert.equal(problemMessage({ code: "coupon_exhausted" }, "zh"), "这张券已经用过了。");
  assert.equal(problemMessage({ code: "coupon_exhausted" }, "en"), "This coupon has already been used.");
  assert.equal(problemMessage({ code: "not_accepted_here" }, "zh"), "这张券不能在本店使用。");
});

test("a verify answer's refusal reads the same as the redemption's problem", () => {
  const verified = { valid: false, code: "coupon_expired", detail: "This coupon has expired." };
  assert.equal(problemMessage(verified, "zh"), problemMessage({ code: "coupon_expired", status: 410 }, "zh"));
});

test("amounts in a problem are shown in yuan", () => {
  const below = { code: "below_min_spend", detail: "This coupon needs an order of at least ¥200.00.",
    min_spend: 20000, currency: "CNY" };
  assert.equal(problemMessage(below, "zh"), "订单金额未达到最低消费 ¥200.00。");
  assert.equal(problemMessage({ code: "below_min_spend" }, "zh"), "订单金额未达到这张券的最低消费。");
  const early = { code: "offer_not_started", usable_from: "2026-12-24T10:00:00+08:00" };
  assert.equal(problemMessage(early, "zh"), "这张券从 2026-12-24 10:00 起才能使用。");
  assert.equal(problemMessage({ code: "refund_exceeds_paid", refundable: 17000 }, "en"),
    "That is more than can still be refunded (at most ¥170.00).");
});

test("pairing codes' problems, the network and unknown problems have words too", () => {
  for (const code of ["pairing_code_malformed", "pairing_code_unknown", "pairing_code_used", "pairing_code_expired"]) {
    assert.notEqual(problemMessage({ code }, "zh"), problemMessage({ code: "x" }, "zh"));
  }
  assert.match(problemMessage({ code: "pairing_code_expired" }, "zh"), /过期/);
  assert.match(problemMessage({ code: "network_error", status: 0 }, "zh"), /网络/);
  assert.match(problemMessage({ code: "whatever", status: 500 }, "en"), /server/);
  assert.match(problemMessage({ code: "brand_new_code", status: 422 }, "zh"), /brand_new_code/);
  assert.match(problemMessage(undefined, "en"), /Not done/);
});

test("Chinese is the default; both languages have every string", () => {
  setLanguage("fr");
  assert.equal(t("redeem"), "核销");
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.zh).sort());
  assert.equal(t("redeem_pay", { amount: "¥220.00" }, "en"), "Redeem · customer pays ¥220.00");
});
