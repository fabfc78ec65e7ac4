"""A small believable world from the article: shops that sell "three-low" goods in one city."""

from __future__ import annotations

from sqlalchemy import func, select

from .extensions import db
from .merchants import services as merchants
from .merchants.models import Merchant

# (shell name, merchant, categories, price tier, scale, city, store name, address)
DEMO_WORLD = [
    ("STROLLER", "贝贝童车馆 Beibei Strollers", ["stroller"], 3, "small", "杭州",
     "贝贝童车馆 文三路店", "杭州市西湖区文三路 88 号"),
    ("MATERNITY", "暖暖孕婴坊 Nuannuan Maternity", ["maternity", "baby_care"], 3, "small", "杭州",
     "暖暖孕婴坊 学院路店", "杭州市西湖区学院路 120 号"),
    ("HARDWARE", "老周五金 Zhou Hardware", ["hardware"], 2, "micro", "杭州",
     "老周五金 莫干山路店", "杭州市拱墅区莫干山路 301 号"),
    ("DECOR", "栖居家装工作室 Qiju Home Studio", ["home_decoration"], 3, "small", "杭州",
     "栖居家装工作室", "杭州市拱墅区湖墅南路 56 号"),
    ("TOYS", "乐乐玩具屋 Lele Toys", ["toys"], 2, "small", "杭州",
     "乐乐玩具屋 文二路店", "杭州市西湖区文二路 15 号"),
    ("RIVAL_STROLLER", "宝宝行童车 Baobao Strollers", ["stroller"], 3, "small", "杭州",
     "宝宝行童车 教工路店", "杭州市西湖区教工路 200 号"),
]


def load_demo(*, if_empty: bool = False) -> list[str] | None:
    """Create the demo merchants with a store and a cashier terminal each; return shell lines."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Merchant)):
        return None
    lines = []
    for var, name, categories, tier, scale, city, store_name, address in DEMO_WORLD:
        merchant, issued = merchants.register_merchant(name=name, categories=categories,
                                                       price_tier=tier, scale=scale, city=city)
        principal = _principal_for(issued)
        store = merchants.create_store(principal, name=store_name, address=address, city=city)
        terminal = merchants.create_terminal_key(principal, store.id, "demo till")
        lines += [
            f"# {name} (merchant {merchant.id}, store {store.id})",
            f"{var}_ID={merchant.id}",
            f"{var}_KEY={issued.plaintext}",
            f"{var}_STORE_ID={store.id}",
            f"{var}_TERMINAL_KEY={terminal.plaintext}",
        ]
    return lines


def demo_till_pairing():
    """A fresh pairing for the demo maternity store's till (it redeems the stroller shop's
    coupons), or None when the demo world is not loaded."""
    from .merchants.models import Store
    from .till.services import create_pairing_for_store

    store_id = db.session.scalar(select(Store.id).where(Store.name == DEMO_WORLD[1][6]).order_by(Store.id))
    return None if store_id is None else create_pairing_for_store(store_id, "demo till (paired)")


def _principal_for(issued):
    from .http.auth import Principal

    return Principal(kind="merchant", merchant_id=issued.key.merchant_id, key_id=issued.key.id)
