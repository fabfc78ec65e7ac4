"""Every table, imported in one place for the app, Alembic and the tests."""

from .audit import AuditEvent  # noqa: F401
from .categories.models import Category, CategoryRelation, merchant_categories  # noqa: F401
from .coupons.models import Coupon, CouponBatch, Pack, SheetPart  # noqa: F401
from .db import Base  # noqa: F401
from .db.idempotency import IdempotencyRecord  # noqa: F401
from .db.ids import IdBlock  # noqa: F401
from .events.models import Event, WebhookDelivery, WebhookEndpoint  # noqa: F401
from .ledger.models import LedgerEntry, LedgerTransaction  # noqa: F401
from .merchants.models import ApiKey, Merchant, Store  # noqa: F401
from .offers.models import Offer, offer_distributors  # noqa: F401
from .offline.models import OfflineConflict, StoreRiskLimits  # noqa: F401
from .partners.models import Partnership, PartnershipTerms  # noqa: F401
from .partners.search_index import PartnerSearchEntry  # noqa: F401
from .redemptions.models import CustomerOfferUse, PartnershipMonth, Redemption, Reversal  # noqa: F401
from .settlement.models import Confirmation, Dispute, Settlement, SettlementObligation  # noqa: F401
from .till.models import TillPairing  # noqa: F401
