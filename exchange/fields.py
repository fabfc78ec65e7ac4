"""Schema fields shared by every domain: strict numbers, clean text, money, aware instants."""

from __future__ import annotations

import unicodedata

import marshmallow as ma

from .money import CURRENCIES, MAX_AMOUNT


class StrictInteger(ma.fields.Integer):
    """An integer given as a JSON number: no strings, floats or booleans."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def Amount(*, allow_zero: bool = False, **kwargs) -> StrictInteger:
    """Minor units (fen), never negative, never beyond 10^12."""
    return StrictInteger(
        validate=ma.validate.Range(min=0 if allow_zero else 1, max=MAX_AMOUNT),
        metadata={"description": "integer minor units (fen)"},
        **kwargs,
    )


class Text(ma.fields.String):
    """Trimmed text of bounded length with no control characters."""

    def __init__(self, *, max_length: int, min_length: int = 1, **kwargs):
        super().__init__(validate=ma.validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            raise ma.ValidationError("Control characters are not allowed.")
        return text


def Currency(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(sorted(CURRENCIES)), **kwargs)


class AwareDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with an explicit offset; bare dates and naive times are refused."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)


class StrictSchema(ma.Schema):
    """Unknown fields are refused, not silently dropped."""

    class Meta:
        unknown = ma.RAISE
