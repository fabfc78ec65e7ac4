// node --test: the till's one conversion between what a cashier types and integer fen.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fenToInput, formatFen, MAX_FEN, parseYuan } from "../../exchange/static/till/money.js";

test("whole yuan, one decimal and two decimals all become integer fen", () => {
  assert.deepEqual(parseYuan("250"), { fen: 25000 });
  assert.deepEqual(parseYuan("250.5"), { fen: 25050 });
  assert.deepEqual(parseYuan("250.50"), { fen: 25050 });
  assert.deepEqual(parseYuan("250."), { fen: 25000 });
  assert.deepEqual(parseYuan("0.01"), { fen: 1 });
  assert.deepEqual(parseYuan("0250.00"), { fen: 25000 });
});

test("a Chinese IME's full-width digits, the yuan sign and separators are read", () => {
  assert.deepEqual(parseYuan("２５０"), { fen: 25000 });
  assert.deepEqual(parseYuan("２５０．５"), { fen: 25050 });
  assert.deepEqual(parseYuan("¥250.00"), { fen: 25000 });
  assert.deepEqual(parseYuan("￥1,250.00"), { fen: 125000 });
  assert.deepEqual(parseYuan(" 250 元 "), { fen: 25000 });
});

test("nothing, zero, negative and nonsense are refused, each with its reason", () => {
  assert.deepEqual(parseYuan(""), { error: "empty" });
  assert.deepEqual(parseYuan("   "), { error: "empty" });
  assert.deepEqual(parseYuan("0"), { error: "zero" });
  assert.deepEqual(parseYuan("0.00"), { error: "zero" });
  assert.deepEqual(parseYuan("-250"), { error: "negative" });
  assert.deepEqual(parseYuan("－２５０"), { error: "negative" });
  assert.deepEqual(parseYuan("250.505"), { error: "too_precise" });
  for (const bad of ["abc", "2.5.0", "1e5", "0x10", "NaN", "Infinity", ".", ".5", "２５０元五角", "--5"]) {
    assert.deepEqual(parseYuan(bad), { error: "invalid" }, bad);
  }
});

test("over 10^10 yuan is too large; exactly the exchange's limit is not", () => {
  assert.equal(MAX_FEN, 10 ** 12);
  assert.deepEqual(parseYuan("10000000000"), { fen: 10 ** 12 });
  assert.deepEqual(parseYuan("10000000000.01"), { error: "too_large" });
  assert.deepEqual(parseYuan("10000000001"), { error: "too_large" });
  assert.deepEqual(parseYuan("99999999999999999999999"), { error: "too_large" });
});

test("fen are shown as yuan with two decimals", () => {
  assert.equal(formatFen(22000), "¥220.00");
  assert.equal(formatFen(3000), "¥30.00");
  assert.equal(formatFen(-3000), "-¥30.00");
  assert.equal(formatFen(5), "¥0.05");
  assert.equal(formatFen(123456789), "¥1,234,567.89");
  assert.equal(formatFen(0), "¥0.00");
  assert.throws(() => formatFen(1.5), TypeError);
  assert.equal(fenToInput(25050), "250.50");
  for (const fen of [1, 99, 100, 25050, 10 ** 12]) assert.deepEqual(parseYuan(fenToInput(fen)), { fen });
});
