// The till's offline checks (offline.js) and its queue (queue.js), with real Ed25519 tokens made
// here by WebCrypto the way the exchange signs coupons (EdDSA compact JWS, typ "cpn").
import assert from "node:assert/strict";
import { test } from "node:test";

import { assessOffline } from "../../exchange/static/till/offline.js";
import { createQueue } from "../../exchange/static/till/queue.js";

const { subtle } = globalThis.crypto;
const NOW = Date.parse("2026-12-01T04:00:00Z");
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

async function keyPair(kid) {
  const pair = await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = await subtle.exportKey("jwk", pair.publicKey);
  return { kid, privateKey: pair.privateKey, jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, kid, alg: "EdDSA", use: "sig" } };
}

async function token(key, claims, header = {}) {
  const head = b64url(Buffer.from(JSON.stringify({ alg: "EdDSA", kid: key.kid, typ: "cpn", ...header })));
  const body = b64url(Buffer.from(JSON.stringify(claims)));
  const signature = await subtle.sign({ name: "Ed25519" }, key.privateKey, new TextEncoder().encode(`${head}.${body}`));
  return `${head}.${body}.${b64url(new Uint8Array(signature))}`;
}

function catalog(overrides = {}) {
  return {
    generated_at: new Date(NOW - 3600 * 1000).toISOString(), skewMs: 0,
    limits: { max_offline_redemptions_per_day: 2, max_offline_discount_per_day: 5000, max_catalog_age_hours: 24 },
    offers: [{ id: 3, title: "满200减30", status: "active", discount: { type: "amount", amount: 3000 }, min_spend: 20000,
      valid_from: "2026-11-01T00:00:00Z", valid_until: "2027-01-01T00:00:00Z", budget_left: null }],
    partnerships: [{ merchant_id: 1, starts_at: null, ends_at: null }],
    coupons: [{ offer_id: 3, distributor_id: 1, uses_left: 1, ids: [[10, 12], [20, 20]] }],
    ...overrides,
  };
}

const EXP = NOW / 1000 + 86400;

async function setting() {
  const key = await keyPair("1");
  return { key, jwks: { keys: [key.jwk] } };
}

async function check(payload, { orderAmount = 25000, cat = catalog(), jwks, queue = [], tillNow = NOW } = {}) {
  return assessOffline({ payload, orderAmount, catalog: cat, jwks, queue, tillNow });
}

test("a genuine coupon of the catalog is priced offline as the exchange would", async () => {
  const { key, jwks } = await setting();
  const link = `http://shop.example/c/${await token(key, { c: 11, exp: EXP })}`;
  const answer = await check(link, { jwks });
  assert.equal(answer.ok, true);
  assert.deepEqual([answer.discount, answer.payable, answer.couponId, answer.offer.id], [3000, 22000, 11, 3]);
});

test("a forged, tampered, unknown-key or retired-key coupon is refused offline", async () => {
  const { key, jwks } = await setting();
  const other = await keyPair("1");
  assert.equal((await check(await token(other, { c: 11, exp: EXP }), { jwks })).refused, "invalid_signature");
  const genuine = await token(key, { c: 11, exp: EXP });
  const [h, , s] = genuine.split(".");
  const tampered = `${h}.${b64url(Buffer.from(JSON.stringify({ c: 12, exp: EXP })))}.${s}`;
  assert.equal((await check(tampered, { jwks })).refused, "invalid_signature");
  // The key was retired: the refreshed JWKS no longer lists it.
  assert.equal((await check(genuine, { jwks: { keys: [] } })).refused, "invalid_signature");
  assert.equal((await check(await token(key, { c: 11, exp: EXP }, { alg: "HS256" }), { jwks })).refused,
    "invalid_signature");
  assert.equal((await check("abc.def.ghi", { jwks })).refused, "malformed_payload");
});

test("expiry, the catalog's coupons, the offer's rules and the partnership are checked offline", async () => {
  const { key, jwks } = await setting();
  assert.equal((await check(await token(key, { c: 11, exp: NOW / 1000 - 1 }), { jwks })).refused, "coupon_expired");
  assert.equal((await check(await token(key, { c: 13, exp: EXP }), { jwks })).refused, "offline_coupon_unknown");
  const ok = await token(key, { c: 20, exp: EXP });
  assert.equal((await check(ok, { jwks, orderAmount: 19999 })).refused, "below_min_spend");
  const paused = catalog({ offers: [{ ...catalog().offers[0], status: "paused" }] });
  assert.equal((await check(ok, { jwks, cat: paused })).refused, "offer_paused");
  assert.equal((await check(ok, { jwks, cat: catalog({ partnerships: [] }) })).refused, "partnership_inactive");
  const used = [{ couponId: 20, state: "pending", offlineAt: new Date(NOW).toISOString(), discount: 3000 }];
  assert.equal((await check(ok, { jwks, queue: used })).refused, "coupon_exhausted");
  assert.equal((await check("ABCD-EFGH-JKMNP", { jwks })).refused, "offline_needs_qr");
});

test("a catalog older than the store's limit is refused, and so is no catalog", async () => {
  const { key, jwks } = await setting();
  const ok = await token(key, { c: 11, exp: EXP });
  const stale = catalog({ generated_at: new Date(NOW - 25 * 3600 * 1000).toISOString() });
  assert.deepEqual(await check(ok, { jwks, cat: stale }), { refused: "offline_catalog_stale", hours: 24 });
  assert.equal((await check(ok, { jwks, cat: null })).refused, "offline_no_catalog");
});

test("the store's daily offline limits: count and discount", async () => {
  const { key, jwks } = await setting();
  const ok = await token(key, { c: 11, exp: EXP });
  const at = new Date(NOW).toISOString();
  const two = [{ couponId: 10, state: "synced", offlineAt: at, discount: 1000 },
    { couponId: 12, state: "pending", offlineAt: at, discount: 1000 }];
  assert.deepEqual(await check(ok, { jwks, queue: two }), { refused: "offline_limit_count", limit: 2 });
  const big = [{ couponId: 10, state: "pending", offlineAt: at, discount: 2500 }];
  assert.deepEqual(await check(ok, { jwks, queue: big }), { refused: "offline_limit_discount", limit: 5000 });
  // Refused items and yesterday's do not count.
  const old = [{ couponId: 10, state: "refused", offlineAt: at, discount: 3000 },
    { couponId: 12, state: "synced", offlineAt: new Date(NOW - 86400 * 1000).toISOString(), discount: 3000 }];
  assert.equal((await check(ok, { jwks, queue: old })).ok, true);
  // Refunds queued today are not redemptions: they take neither a use nor the day's allowance.
  const refunds = [{ kind: "refund", key: "f1", redemptionKey: "x", amount: 2000, offlineAt: at, state: "pending" },
    { kind: "refund", key: "f2", redemptionId: 4, amount: 2000, offlineAt: at, state: "pending" }];
  assert.equal((await check(ok, { jwks, queue: refunds })).ok, true);
});

function memoryDevice() {
  const map = new Map();
  return { get: (k) => map.get(k), set: async (k, v) => { map.set(k, structuredClone(v)); }, map };
}

test("the queue sends in order with each item's own key, keeps it across restarts, and backs off", async () => {
  const device = memoryDevice();
  const sent = [];
  let down = true;
  const api = { sync: async (item) => {
    if (down) throw Object.assign(new Error("down"), { problem: { code: "network_error" }, retryable: true, status: 0 });
    sent.push(item.key);
    if (item.key === "k2") throw Object.assign(new Error("x"), { problem: { code: "offline_double_spend" }, status: 409 });
    return { id: sent.length };
  } };
  const timers = [];
  const now = () => NOW;
  const first = createQueue({ device, api, setTimer: (fn, ms) => timers.push(ms), clearTimer: () => {}, now });
  for (const key of ["k1", "k2", "k3"]) await first.add({ key, offlineAt: new Date(NOW).toISOString() });
  await first.drain();
  await first.drain();
  assert.deepEqual(timers, [1000, 2000]);
  // A reload: a new queue over the same device store has all three, still pending.
  const second = createQueue({ device, api, setTimer: () => {}, clearTimer: () => {}, now });
  assert.deepEqual(second.pending().map((i) => i.key), ["k1", "k2", "k3"]);
  down = false;
  await second.drain();
  assert.deepEqual(sent, ["k1", "k2", "k3"]);
  assert.deepEqual(second.items().map((i) => i.state), ["synced", "refused", "synced"]);
  assert.equal(device.map.get("queue")[1].problem.code, "offline_double_spend");
  await second.drain();
  assert.deepEqual(sent, ["k1", "k2", "k3"]);
});

test("an item taken while the queue is sending goes out in the same pass", async () => {
  const device = memoryDevice();
  const sent = [];
  let queue;
  const api = { sync: async (item) => {
    sent.push(item.key);
    if (item.key === "a") await queue.add({ key: "b", offlineAt: new Date(NOW).toISOString() });
    return { id: sent.length };
  } };
  queue = createQueue({ device, api, setTimer: () => {}, clearTimer: () => {}, now: () => NOW });
  await queue.add({ key: "a", offlineAt: new Date(NOW).toISOString() });
  await queue.drain();
  assert.deepEqual(sent, ["a", "b"]);
  assert.deepEqual(queue.items().map((i) => i.state), ["synced", "synced"]);
});
