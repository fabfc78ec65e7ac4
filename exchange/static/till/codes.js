// What a cashier types or a scanner sends, made into what the API reads. Pure.
//
// A coupon's manual code is 13 characters of Crockford's base32 shown as 4-4-5; a till pairing
// code is 8, shown as 4-4. Typing is forgiving: lower case, spaces, dashes and the full-width
// characters a Chinese IME produces are all accepted, and O, I and L are read as 0, 1 and 1
// (as the exchange itself does). A scanned link or a bare token goes through as it is: a
// keyboard-wedge scanner "types" the coupon's link into the code field.

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CONFUSABLE = { O: "0", I: "1", L: "1" };

function cleaned(text) {
  return String(text ?? "")
    .normalize("NFKC")
    .replace(/[\s\-‐‑‒–—―ー]/g, "")
    .toUpperCase()
    .replace(/[OIL]/g, (ch) => CONFUSABLE[ch]);
}

function grouped(code, sizes) {
  const parts = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(code.slice(at, at + size));
    at += size;
  }
  return parts.join("-");
}

function isCode(code, length) {
  return code.length === length && [...code].every((ch) => ALPHABET.includes(ch));
}

// {kind: "link" | "token", payload} for a scanned link or token, {kind: "code", payload,
// display} for a typed coupon code, or null when it cannot be a coupon.
export function readCoupon(text) {
  const raw = String(text ?? "").normalize("NFKC").trim();
  if (/^https?:\/\/\S+\/c\/[A-Za-z0-9_\-.]+\/?$/i.test(raw)) return { kind: "link", payload: raw };
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(raw)) return { kind: "token", payload: raw };
  const code = cleaned(raw);
  if (!isCode(code, 13)) return null;
  const display = grouped(code, [4, 4, 5]);
  return { kind: "code", payload: display, display };
}

// The display form of a pairing code ("K7QM-4XPA"), or null.
export function readPairingCode(text) {
  const code = cleaned(text);
  return isCode(code, 8) ? grouped(code, [4, 4]) : null;
}

// The pairing code a pairing link carries in its fragment: "#pair=K7QM4XPA".
export function pairingCodeFromHash(hash) {
  const match = /(?:^#|&)pair=([^&]+)/.exec(String(hash ?? ""));
  return match ? readPairingCode(decodeURIComponent(match[1])) : null;
}
