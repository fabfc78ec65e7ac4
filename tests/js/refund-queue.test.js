// Refunds taken offline (queue.js): queued in order after what they refund, sent only once that
// redemption was accepted (refunding the exchange's redemption), dropped when it was refused.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createQueue } from "../../exchange/static/till/queue.js";

const NOW = Date.parse("2026-12-01T04:00:00Z");
const at = (s) => new Date(NOW + s * 1000).toISOString();

function memoryDevice() {
  const map = new Map();
  return { get: (k) => map.get(k), set: async (k, v) => { map.set(k, structuredClone(v)); }, map };
}

const refused = (code, status) => Object.assign(new Error(code), { problem: { code }, status });
const down = () => Object.assign(new Error("down"), { problem: { code: "network_error" }, retryable: true, status: 0 });

// A fake exchange: records what was sent, in order; redemptions named in `conflicts` are refused.
function exchange({ conflicts = [], offline = () => false } = {}) {
  const sent = [];
  let next = 100;
  return { sent, api: {
    sync: async (item) => {
      if (offline()) throw down();
      sent.push(["redeem", item.key]);
      if (conflicts.includes(item.key)) throw refused("offline_double_spend", 409);
      next += 1;
      return { id: next };
    },
    syncRefund: async (item) => {
      if (offline()) throw down();
      sent.push(["refund", item.key, item.redemptionId, item.amount, item.offlineAt]);
      return { id: 900 + sent.length, redemption_id: item.redemptionId, refund_amount: item.amount };
    },
  } };
}

const queueOn = (device, api) => createQueue({ device, api, setTimer: () => {}, clearTimer: () => {}, now: () => NOW });

test("a refund of a redemption still in the queue waits for it, then refunds the exchange's redemption", async () => {
  const device = memoryDevice();
  let isDown = true;
  const { sent, api } = exchange({ offline: () => isDown });
  const queue = queueOn(device, api);
  await queue.add({ key: "r1", offlineAt: at(0), couponId: 10, discount: 3000, payable: 22000 });
  await queue.add({ kind: "refund", key: "f1", redemptionKey: "r1", amount: 5000, reason: "退货", offlineAt: at(60) });
  await queue.drain();
  assert.deepEqual(sent, []);
  // A reload: both still there, still pending, in the order taken.
  const again = queueOn(device, api);
  assert.deepEqual(again.pending().map((i) => i.key), ["r1", "f1"]);
  assert.deepEqual(again.refundsOf({ key: "r1" }).map((i) => i.amount), [5000]);
  isDown = false;
  await again.drain();
  assert.deepEqual(sent, [["redeem", "r1"], ["refund", "f1", 101, 5000, at(60)]]);
  assert.deepEqual(again.items().map((i) => i.state), ["synced", "synced"]);
  assert.equal(device.map.get("queue")[1].reversal.refund_amount, 5000);
  await again.drain();
  assert.equal(sent.length, 2);
});

test("a refund of a redemption refused as a conflict is dropped, never sent; the next items still go", async () => {
  const device = memoryDevice();
  const { sent, api } = exchange({ conflicts: ["r1"] });
  const queue = queueOn(device, api);
  await queue.add({ key: "r1", offlineAt: at(0) });
  await queue.add({ kind: "refund", key: "f1", redemptionKey: "r1", amount: 5000, offlineAt: at(10) });
  await queue.add({ kind: "refund", key: "f2", redemptionId: 55, amount: 100, offlineAt: at(20) });
  await queue.drain();
  assert.deepEqual(sent, [["redeem", "r1"], ["refund", "f2", 55, 100, at(20)]]);
  const [r1, f1, f2] = queue.items();
  assert.equal(r1.state, "refused");
  assert.equal(f1.state, "dropped");
  assert.equal(f1.problem.code, "refund_of_refused_redemption");
  assert.equal(f2.state, "synced");
  assert.deepEqual(queue.refundsOf({ key: "r1" }), []);
});

test("a refund of a confirmed redemption is sent in its turn, after what was queued before it", async () => {
  const device = memoryDevice();
  const { sent, api } = exchange();
  const queue = queueOn(device, api);
  await queue.add({ key: "r1", offlineAt: at(0) });
  await queue.add({ kind: "refund", key: "f1", redemptionId: 7, amount: 2200, offlineAt: at(5) });
  await queue.add({ key: "r2", offlineAt: at(9) });
  await queue.drain();
  assert.deepEqual(sent.map(([kind, key]) => `${kind}:${key}`), ["redeem:r1", "refund:f1", "redeem:r2"]);
  assert.deepEqual(queue.refundsOf({ id: 7 }).map((i) => i.state), ["synced"]);
});

test("a refund the exchange refuses is kept as refused with its reason, and is not retried", async () => {
  const device = memoryDevice();
  const { api } = exchange();
  let calls = 0;
  api.syncRefund = async () => { calls += 1; throw refused("refund_exceeds_paid", 422); };
  const queue = queueOn(device, api);
  await queue.add({ kind: "refund", key: "f1", redemptionId: 7, amount: 2200, offlineAt: at(5) });
  await queue.drain();
  await queue.drain();
  assert.equal(calls, 1);
  assert.deepEqual(queue.items().map((i) => [i.state, i.problem.code]), [["refused", "refund_exceeds_paid"]]);
});
