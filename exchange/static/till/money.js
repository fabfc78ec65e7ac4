// Money at the till: yuan as the cashier types it ⇄ integer fen as the API takes it.
// The one place that converts; no floating point anywhere (SPEC §4.3).

// The exchange refuses amounts beyond 10^12 fen (10 billion yuan): no shop's order.
export const MAX_FEN = 10 ** 12;

const AMOUNT = /^(\d+)(?:\.(\d{0,2}))?$/;

// Parse what the cashier typed: "250", "250.5", "250.50", "２５０" (a Chinese IME's full-width
// digits), "¥1,250.00". Returns {fen} or {error} with error one of: empty, invalid, negative,
// zero, too_precise, too_large.
export function parseYuan(text) {
  let s = String(text ?? "").normalize("NFKC").replace(/[\s,]/g, "").replace(/^[¥￥]/, "").replace(/元$/, "");
  if (s === "") return { error: "empty" };
  if (/^[-−]/.test(s)) return { error: /^[-−]\d/.test(s) ? "negative" : "invalid" };
  s = s.replace(/^\+/, "");
  if (/^\d+\.\d{3,}$/.test(s)) return { error: "too_precise" };
  const m = AMOUNT.exec(s);
  if (!m) return { error: "invalid" };
  const whole = m[1].replace(/^0+(?=\d)/, "");
  // 12 digits of yuan already exceed the limit; checking the length first keeps Number exact.
  if (whole.length > 11) return { error: "too_large" };
  const fen = Number(whole) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  if (fen === 0) return { error: "zero" };
  if (fen > MAX_FEN) return { error: "too_large" };
  return { fen };
}

// 22000 → "¥220.00"; 123456789 → "¥1,234,567.89"; negative amounts keep their sign in front.
export function formatFen(fen, { sign = false } = {}) {
  if (!Number.isInteger(fen)) throw new TypeError("fen must be an integer");
  const minus = fen < 0 ? "-" : sign && fen > 0 ? "+" : "";
  const abs = Math.abs(fen);
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${minus}¥${yuan}.${String(abs % 100).padStart(2, "0")}`;
}

// What goes back into the amount field (no currency sign, no separators): 25000 → "250.00".
export function fenToInput(fen) {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}
