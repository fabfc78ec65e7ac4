// The shared pricing vectors (tests/vectors/pricing.json), run against the till's offline pricing:
// the Python unit tests run the same file against the exchange's (tests/unit/test_pricing_vectors.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { applyBps, checkRefund, priceOffer } from "../../exchange/static/till/pricing.js";

const { vectors, refunds } = JSON.parse(readFileSync(new URL("../vectors/pricing.json", import.meta.url), "utf8"));

test("there are shared vectors, with half-fen cases", () => {
  assert.ok(vectors.length >= 25);
  assert.ok(vectors.some((v) => v.name.includes("half")));
});

for (const vector of vectors) {
  test(`vector: ${vector.name}`, () => {
    const answer = priceOffer(vector.offer, vector.order_amount);
    if (vector.expected.refused) assert.equal(answer.refused, vector.expected.refused);
    else assert.deepEqual(answer, vector.expected);
  });
}

test("a basis-point share past 2^53 is still exact", () => {
  assert.equal(applyBps(10 ** 12 - 1, 9999), 999899999999);
  assert.equal(applyBps(1, 5000), 1);
  assert.equal(applyBps(3, 5000), 2);
});

// The refunds a till takes offline are checked as the exchange checks them: never beyond what is left.
for (const vector of refunds) {
  test(`refund vector: ${vector.name}`, () => {
    let refundedSoFar = 0;
    for (const [i, refund] of vector.refunds.entries()) {
      const answer = checkRefund({ paid: vector.paid, refundedSoFar, refund });
      assert.deepEqual(answer, vector.expected[i]);
      if (!answer.refused) refundedSoFar += refund;
    }
  });
}
