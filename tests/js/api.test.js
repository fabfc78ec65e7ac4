// node --test: the one fetch wrapper — retries keep their Idempotency-Key, problems are typed.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";

import { ApiProblem, createApi, newIdempotencyKey } from "../../exchange/static/till/api.js";

function answer(status, body) {
  return { ok: status < 400, status, json: async () => body };
}

function recorder(...outcomes) {
  const calls = [];
  const fetch = async (path, init) => {
    calls.push({ path, ...init });
    const next = outcomes.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  return { calls, fetch };
}

const noWait = { sleep: async () => {}, key: () => "tk_1_secret" };

test("a dropped connection is retried with the same Idempotency-Key until it is answered", async () => {
  const { calls, fetch } = recorder(new TypeError("Failed to fetch"), answer(503, { code: "database_unreachable", status: 503 }),
    answer(201, { id: 7, paid_amount: 22000 }));
  const retries = [];
  const api = createApi({ fetch, ...noWait });
  const result = await api.redeem({ key: "k-1", payload: "ABCD-EFGH-JKMNP", orderAmount: 25000 }, (n) => retries.push(n));
  assert.equal(result.id, 7);
  assert.deepEqual(retries, [1, 2]);
  assert.equal(calls.length, 3);
  assert.deepEqual(new Set(calls.map((c) => c.headers["Idempotency-Key"])), new Set(["k-1"]));
  assert.deepEqual(JSON.parse(calls[0].body), { payload: "ABCD-EFGH-JKMNP", order_amount: 25000 });
  assert.equal(calls[0].headers.Authorization, "Bearer tk_1_secret");
});

test("a refusal is not retried and arrives as an ApiProblem with its code", async () => {
  const { calls, fetch } = recorder(answer(409, { code: "coupon_exhausted", status: 409, detail: "used" }));
  const api = createApi({ fetch, ...noWait });
  await assert.rejects(api.redeem({ key: "k-2", payload: "x", orderAmount: 1 }),
    (error) => error instanceof ApiProblem && error.code === "coupon_exhausted" && !error.retryable);
  assert.equal(calls.length, 1);
});

test("retries give up after a while, still retryable with the same key", async () => {
  const { calls, fetch } = recorder(...Array.from({ length: 4 }, () => new TypeError("offline")));
  const api = createApi({ fetch, ...noWait, delays: [1, 1, 1] });
  await assert.rejects(api.redeem({ key: "k-3", payload: "x", orderAmount: 1 }),
    (error) => error.code === "network_error" && error.retryable);
  assert.equal(calls.length, 4);
});

test("a revoked key tells the app it was unpaired; pairing itself sends no key", async () => {
  let unpaired = 0;
  const { calls, fetch } = recorder(answer(401, { code: "invalid_key", status: 401 }), answer(201, { terminal_key: "tk_2_x" }));
  const api = createApi({ fetch, ...noWait, onUnpaired: () => { unpaired += 1; } });
  await assert.rejects(api.day(), (error) => error.code === "invalid_key");
  assert.equal(unpaired, 1);
  await api.pair("K7QM-4XPA");
  assert.equal(calls[1].headers.Authorization, undefined);
  assert.equal(calls[1].path, "/api/v1/till-pairings/exchange");
});

test("Idempotency-Keys are version 4 UUIDs, each new", () => {
  const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey(webcrypto)));
  assert.equal(keys.size, 100);
  for (const key of keys) assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
