// What an offer takes off an order, offline, exactly as the exchange prices it
// (exchange/offers/pricing.py, exchange/redemptions/checks.py). Pure, integer fen only: a basis
// point share is computed in BigInt, since 10^12 fen × 10,000 bps is past 2^53. The one file of
// shared vectors (tests/vectors/pricing.json) is run against both.

// amount × rateBps / 10,000, rounded half away from zero (amounts here are never negative).
export function applyBps(amount, rateBps) {
  const product = BigInt(amount) * BigInt(rateBps);
  const quotient = product / 10000n;
  return Number(product % 10000n * 2n >= 10000n ? quotient + 1n : quotient);
}

// The discount on orderAmount under a catalog offer's rule: never more than the order.
export function discountFor(discount, orderAmount) {
  if (discount.type === "amount") return Math.min(discount.amount, orderAmount);
  return Math.min(applyBps(orderAmount, discount.rate_bps), discount.max_amount, orderAmount);
}

// The most a coupon of the offer takes off any order (what a budget must still hold).
export function fullDiscount(discount) {
  return discount.type === "amount" ? discount.amount : discount.max_amount;
}

// {discount, payable} for the order, or {refused: code, ...} as the exchange would refuse it.
export function priceOffer(offer, orderAmount) {
  if (orderAmount < offer.min_spend) return { refused: "below_min_spend", min_spend: offer.min_spend };
  const discount = discountFor(offer.discount, orderAmount);
  const left = offer.budget_left;
  if (left !== undefined && left !== null && (left < fullDiscount(offer.discount) || discount > left)) {
    return { refused: "budget_exhausted" };
  }
  return { discount, payable: orderAmount - discount };
}

// Whether a refund of `refund` fen can be taken on a redemption the customer paid `paid` for, of
// which `refundedSoFar` was refunded (by the exchange, or queued here): {left} after it, or
// {refused: code, refundable} as the exchange would refuse it (exchange/redemptions/pricing.py).
export function checkRefund({ paid, refundedSoFar, refund }) {
  if (refundedSoFar >= paid) return { refused: "already_reversed", refundable: 0 };
  const refundable = paid - refundedSoFar;
  if (refund > refundable) return { refused: "refund_exceeds_paid", refundable };
  return { left: refundable - refund };
}
