// node --test: what a cashier types or a scanner sends, made into what the exchange reads.
import assert from "node:assert/strict";
import { test } from "node:test";

import { pairingCodeFromHash, readCoupon, readPairingCode } from "../../exchange/static/till/codes.js";

test("a typed coupon code is forgiving: lower case, spaces, dashes, full width", () => {
  const want = { kind: "code", payload: "ABCD-EFGH-JKMNP", display: "ABCD-EFGH-JKMNP" };
  for (const typed of ["ABCD-EFGH-JKMNP", "abcd-efgh-jkmnp", "abcd efgh jkmnp", " ABCDEFGHJKMNP ",
    "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮＰ", "ａｂｃｄ　ｅｆｇｈ　ｊｋｍｎｐ", "ABCD—EFGH—JKMNP"]) {
    assert.deepEqual(readCoupon(typed), want, typed);
  }
});

test("letters people confuse with digits are read as the digits", () => {
  assert.equal(readCoupon("OOOO-IIII-LLLLL").payload, "0000-1111-11111");
});

test("what cannot be a code is refused", () => {
  for (const bad of ["", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMNPQ", "UUUU-UUUU-UUUUU", "优惠券", "ABCD-EFGH-JKMN!"]) {
    assert.equal(readCoupon(bad), null, bad);
  }
});

test("a scanned link or token goes through as it is (a keyboard-wedge scanner types the link)", () => {
  const link = "HTTP://127.0.0.1:8000/C/eyJhbGciOiJFZERTQSJ9.eyJjIjoxfQ.c2lnbmF0dXJl";
  assert.deepEqual(readCoupon(link), { kind: "link", payload: link });
  assert.deepEqual(readCoupon(`  ${link}\n`), { kind: "link", payload: link });
  assert.deepEqual(readCoupon("https://exchange.example/c/abc.def.ghi"),
    { kind: "link", payload: "https://exchange.example/c/abc.def.ghi" });
  assert.deepEqual(readCoupon("eyJhbGciOiJFZERTQSJ9.eyJjIjoxfQ.c2lnbmF0dXJl").kind, "token");
  // The same link typed through a full-width IME is still the link.
  assert.equal(readCoupon("ＨＴＴＰ：／／127.0.0.1:8000/C/abc.def.ghi").payload, "HTTP://127.0.0.1:8000/C/abc.def.ghi");
});

test("pairing codes: 8 characters, shown 4-4, forgiving in the same ways", () => {
  for (const typed of ["K7QM-4XPA", "k7qm4xpa", "k7qm 4xpa", "Ｋ７ＱＭ－４ＸＰＡ"]) {
    assert.equal(readPairingCode(typed), "K7QM-4XPA", typed);
  }
  for (const bad of ["", "K7QM-4XP", "K7QM-4XPAA", "K7QM-4XPU"]) assert.equal(readPairingCode(bad), null, bad);
});

test("the pairing link's fragment carries the code", () => {
  assert.equal(pairingCodeFromHash("#pair=K7QM4XPA"), "K7QM-4XPA");
  assert.equal(pairingCodeFromHash("#lang=en&pair=k7qm4xpa"), "K7QM-4XPA");
  assert.equal(pairingCodeFromHash("#pair=hello"), null);
  assert.equal(pairingCodeFromHash("#pair=UUUUUUUU"), null);
  assert.equal(pairingCodeFromHash(""), null);
});
