// Offline verification: a coupon checked against what the till cached while online — the
// exchange's public keys (JWKS) and its store's catalog — as the exchange would check it
// (exchange/coupons/tokens.py, exchange/coupons/state.py, exchange/redemptions/checks.py).
// Pure but for WebCrypto: the signature is Ed25519 (EdDSA JWS), verified by the browser itself.
import { readCoupon } from "./codes.js";
import { priceOffer } from "./pricing.js";

const HOUR_MS = 3600 * 1000;

function base64urlBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

function json(text) {
  return JSON.parse(new TextDecoder().decode(base64urlBytes(text)));
}

// The compact JWS a scanned link or a bare token carries: {header, claims, input, signature},
// or null when it is not one.
export function decodeToken(payload) {
  const coupon = readCoupon(payload);
  if (!coupon || coupon.kind === "code") return null;
  const token = coupon.kind === "link" ? coupon.payload.replace(/\/$/, "").split("/").pop() : coupon.payload;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return { header: json(parts[0]), claims: json(parts[1]), input: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
      signature: base64urlBytes(parts[2]) };
  } catch {
    return null;
  }
}

// Whether the token's signature verifies against a published key: the algorithm is pinned, a
// key that is no longer in the JWKS (retired) verifies nothing.
export async function signatureValid(decoded, jwks, subtle = globalThis.crypto.subtle) {
  const jwk = (jwks?.keys ?? []).find((k) => k.kid === String(decoded.header.kid));
  if (!jwk || decoded.header.alg !== "EdDSA" || jwk.crv !== "Ed25519") return false;
  try {
    const key = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false,
      ["verify"]);
    return await subtle.verify({ name: "Ed25519" }, key, decoded.signature, decoded.input);
  } catch {
    return false;
  }
}

function inRanges(ranges, id) {
  return ranges.some(([first, last]) => id >= first && id <= last);
}

// The exchange's time, as the till estimates it from when it fetched the catalog.
export function exchangeNow(catalog, tillNow = Date.now()) {
  return tillNow + (catalog?.skewMs ?? 0);
}

export function catalogAgeHours(catalog, tillNow = Date.now()) {
  return (exchangeNow(catalog, tillNow) - Date.parse(catalog.generated_at)) / HOUR_MS;
}

// The day (where the shop is) an instant falls on: the risk limits count per day.
export function shopDay(ms) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(ms));
}

// What the till may do with this coupon offline: {ok: true, discount, payable, offer, couponId}
// or {refused: code, ...}. `queue`: what this till accepted offline already (any state).
export async function assessOffline({ payload, orderAmount, catalog, jwks, queue = [], tillNow = Date.now(),
  subtle = globalThis.crypto.subtle }) {
  queue = queue.filter((item) => item.kind !== "refund");   // only redemptions count here
  const coupon = readCoupon(payload);
  if (coupon?.kind === "code") return { refused: "offline_needs_qr" };
  if (!catalog || !jwks) return { refused: "offline_no_catalog" };
  const limits = catalog.limits;
  if (catalogAgeHours(catalog, tillNow) > limits.max_catalog_age_hours) {
    return { refused: "offline_catalog_stale", hours: limits.max_catalog_age_hours };
  }
  const decoded = decodeToken(payload);
  if (!decoded || typeof decoded.claims !== "object" || !Number.isInteger(decoded.claims?.exp)) {
    return { refused: "malformed_payload" };
  }
  if (decoded.header.typ === "cpk") return { refused: "offline_pack_unsupported" };
  if (decoded.header.typ !== "cpn" || !Number.isInteger(decoded.claims.c)) return { refused: "invalid_signature" };
  if (!(await signatureValid(decoded, jwks, subtle))) return { refused: "invalid_signature" };
  const now = exchangeNow(catalog, tillNow);
  if (decoded.claims.exp * 1000 <= now) return { refused: "coupon_expired" };
  const couponId = decoded.claims.c;
  const group = catalog.coupons.find((g) => inRanges(g.ids, couponId));
  if (!group) return { refused: "offline_coupon_unknown" };
  const mine = queue.filter((item) => item.couponId === couponId && item.state !== "refused");
  if (mine.length >= group.uses_left) return { refused: "coupon_exhausted" };
  const offer = catalog.offers.find((o) => o.id === group.offer_id);
  if (!offer) return { refused: "offline_coupon_unknown" };
  if (now >= Date.parse(offer.valid_until)) return { refused: "coupon_expired" };
  const partnership = catalog.partnerships.find((p) => p.merchant_id === group.distributor_id);
  if (!partnership || (partnership.starts_at && now < Date.parse(partnership.starts_at))
    || (partnership.ends_at && now >= Date.parse(partnership.ends_at))) {
    return { refused: "partnership_inactive" };
  }
  if (offer.status === "paused") return { refused: "offer_paused" };
  if (now < Date.parse(offer.valid_from)) return { refused: "offer_not_started" };
  // What this till already gave offline of the offer's budget comes off what the catalog says is left.
  const spent = queue.filter((i) => i.offerId === offer.id && i.state === "pending").reduce((s, i) => s + i.discount, 0);
  const budgetLeft = offer.budget_left === null || offer.budget_left === undefined ? null : offer.budget_left - spent;
  const price = priceOffer({ ...offer, budget_left: budgetLeft }, orderAmount);
  if (price.refused) return price;
  const today = queue.filter((i) => i.state !== "refused" && shopDay(Date.parse(i.offlineAt)) === shopDay(tillNow));
  if (today.length + 1 > limits.max_offline_redemptions_per_day) {
    return { refused: "offline_limit_count", limit: limits.max_offline_redemptions_per_day };
  }
  const given = today.reduce((sum, i) => sum + i.discount, 0);
  if (given + price.discount > limits.max_offline_discount_per_day) {
    return { refused: "offline_limit_discount", limit: limits.max_offline_discount_per_day };
  }
  return { ok: true, ...price, offer, couponId, code: coupon?.display ?? null };
}
