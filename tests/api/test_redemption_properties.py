"""Random sequences of redemptions and refunds keep every invariant after every step."""

import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from exchange.coupons.models import Coupon
from exchange.ledger.models import LedgerEntry
from exchange.redemptions.models import Redemption, Reversal
from exchange.redemptions.reconciliation import check_ledger
from tests.helpers import make_offer


def test_random_redeem_and_reverse_sequences_keep_the_invariants(api, world, session):
    offers = [make_offer(api, world.maternity, uses_per_coupon=n, min_spend=0,
                         discount={"type": "percent", "rate_bps": 1000, "max_amount": 5000}) for n in (1, 3)]

    class Till(RuleBasedStateMachine):
        @initialize()
        def hand_out_coupons(self):
            self.coupons = []
            for offer in offers:
                r = api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={"count": 2})
                self.coupons += [c["payload"] for c in r.get_json()["items"]]
            self.redemptions = []

        @rule(which=st.integers(0, 3), amount=st.integers(1, 10**7), retry=st.booleans())
        def redeem(self, which, amount, retry):
            key = str(uuid.uuid4())
            body = {"payload": self.coupons[which], "order_amount": amount}
            r = api.post("/api/v1/redemptions", world.maternity.terminal_key, json=body,
                         headers={"Idempotency-Key": key})
            assert r.status_code in (201, 409), r.get_json()
            if retry:
                again = api.post("/api/v1/redemptions", world.maternity.terminal_key, json=body,
                                 headers={"Idempotency-Key": key})
                assert (again.status_code, again.get_json()) == (r.status_code, r.get_json())
            if r.status_code == 201:
                self.redemptions.append(r.get_json()["id"])

        @rule(pick=st.integers(0, 1000), share=st.floats(0.01, 1.2))
        def refund(self, pick, share):
            if not self.redemptions:
                return
            rid = self.redemptions[pick % len(self.redemptions)]
            r = session.get(Redemption, rid)
            session.refresh(r)
            amount = max(1, int(r.paid_amount * share)) if r.paid_amount else 1
            resp = api.post(f"/api/v1/redemptions/{rid}/reversals", world.maternity.terminal_key,
                            json={"refund_amount": amount, "reason": "退货"},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
            assert resp.status_code in (201, 409, 422), resp.get_json()

        @invariant()
        def coupons_never_exceed_their_uses(self):
            for coupon in session.scalars(select(Coupon)):
                session.refresh(coupon)
                assert 0 <= coupon.uses_left <= coupon.uses_total
                redeemed = session.scalar(select(func.count()).select_from(Redemption)
                                          .where(Redemption.coupon_id == coupon.id))
                restored = session.scalar(select(func.count()).select_from(Reversal).join(Redemption)
                                          .where(Redemption.coupon_id == coupon.id, Reversal.use_restored))
                assert coupon.uses_total - coupon.uses_left == redeemed - restored

        @invariant()
        def refunds_and_clawbacks_stay_within_bounds(self):
            for r in session.scalars(select(Redemption)):
                session.refresh(r)
                assert 0 <= r.refunded_amount <= r.paid_amount
                assert 0 <= r.commission_clawed_back <= r.commission_amount
                assert r.paid_amount == r.order_amount - r.discount

        @invariant()
        def ledger_balances_and_matches_the_redemptions(self):
            assert check_ledger(session) == []
            owed = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                  .where(LedgerEntry.merchant_id == world.stroller.id))
            expected = session.scalar(select(func.coalesce(func.sum(
                Redemption.commission_amount - Redemption.commission_clawed_back), 0)))
            assert owed == expected

    run_state_machine_as_test(Till, settings=settings(
        max_examples=15, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
