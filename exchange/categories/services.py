"""The category taxonomy and the competitor rule built on it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..errors import Unprocessable
from ..extensions import db
from .models import Category, CategoryRelation, merchant_categories


def list_categories() -> list[dict]:
    relations: dict[str, dict[str, list[str]]] = {}
    for rel in db.session.scalars(select(CategoryRelation).order_by(CategoryRelation.related_id)):
        relations.setdefault(rel.category_id, {"complements": [], "competitors": []})[rel.kind].append(
            rel.related_id)
    return [
        {"id": c.id, "sector": c.sector, "name": {"zh_cn": c.name_zh, "en": c.name_en},
         **relations.get(c.id, {"complements": [], "competitors": []})}
        for c in db.session.scalars(select(Category).order_by(Category.sector, Category.id))
    ]


def known_categories(slugs: Iterable[str]) -> list[Category]:
    """The categories named, in order; unknown slugs are a validation error."""
    slugs = list(dict.fromkeys(slugs))
    found = {c.id: c for c in db.session.scalars(select(Category).where(Category.id.in_(slugs)))}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise Unprocessable("Unknown categories: see GET /api/v1/categories.", code="validation_failed",
                            errors={"categories": [f"Unknown category: {s}" for s in unknown]})
    return [found[s] for s in slugs]


def categories_of(merchant_id: int) -> list[str]:
    return list(db.session.scalars(
        select(merchant_categories.c.category_id)
        .where(merchant_categories.c.merchant_id == merchant_id)
        .order_by(merchant_categories.c.category_id)))


def related(category_ids: Iterable[str], kind: str) -> set[str]:
    ids = list(category_ids)
    if not ids:
        return set()
    return set(db.session.scalars(
        select(CategoryRelation.related_id)
        .where(CategoryRelation.category_id.in_(ids), CategoryRelation.kind == kind)))


def blocked_categories(category_ids: Iterable[str]) -> set[str]:
    """Categories whose merchants compete with a merchant in `category_ids` (SPEC §1: never a
    direct competitor): the same categories, and those marked as competitors of them."""
    ids = set(category_ids)
    return ids | related(ids, "competitors")


def merchants_compete(a_id: int, b_id: int) -> bool:
    return bool(blocked_categories(categories_of(a_id)) & set(categories_of(b_id)))
