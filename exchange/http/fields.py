"""Schema fields shared by every domain: strict numbers, clean text, money, aware instants."""

from __future__ import annotations

import unicodedata
from datetime import UTC

import marshmallow as ma

from ..money import CURRENCIES, FEN_HINT, MAX_AMOUNT


class StrictInteger(ma.fields.Integer):
    """An integer given as a JSON number: no strings, floats or booleans."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """A JSON true or false: no "yes", 1 or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _fen_metadata(kwargs: dict) -> dict:
    """The field's description, ending with the unit and an example nobody can misread."""
    metadata = dict(kwargs.pop("metadata", {}))
    given = metadata.get("description")
    metadata["description"] = f"{given}; {FEN_HINT}" if given else FEN_HINT
    return metadata


def Amount(*, allow_zero: bool = False, max_amount: int = MAX_AMOUNT, **kwargs) -> StrictInteger:
    """Minor units (fen), never negative, never beyond 10^12. An amount sent in yuan (29.9,
    "29.9") is refused with the hint the documentation gives."""
    return StrictInteger(validate=ma.validate.Range(min=0 if allow_zero else 1, max=max_amount),
                         metadata=_fen_metadata(kwargs),
                         error_messages={"invalid": f"Not an amount: amounts are {FEN_HINT}."}, **kwargs)


def Fen(**kwargs) -> ma.fields.Integer:
    """An amount in an answer: integer minor units, documented as such."""
    return ma.fields.Integer(metadata=_fen_metadata(kwargs), **kwargs)


# Database ids are 32-bit on PostgreSQL; a larger id names nothing (404/422, never a 500).
MAX_ID = 2**31 - 1

# Not blank, no control characters: the same rule as Text, for the OpenAPI document.
_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"


def Id(**kwargs) -> StrictInteger:
    return StrictInteger(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


class Text(ma.fields.String):
    """Text of bounded length, not blank, with no control characters (kept as sent, so the
    length checked is the one the OpenAPI document states)."""

    def __init__(self, *, max_length: int, **kwargs):
        metadata = {"pattern": _TEXT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(validate=ma.validate.Length(min=1, max=max_length), metadata=metadata,
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            raise ma.ValidationError("Control characters are not allowed.")
        if not text.strip():
            raise ma.ValidationError("Must not be blank.")
        return text


def Currency(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(sorted(CURRENCIES)), **kwargs)


class AwareDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with an explicit offset; bare dates and naive times are refused. Kept in UTC."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


class StrictSchema(ma.Schema):
    """Unknown fields are refused, not silently dropped."""

    class Meta:
        unknown = ma.RAISE
