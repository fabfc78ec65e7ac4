"""Closing a month (SPEC §4.4): once, in order, on a watermark of the ledger, into obligations
whose figures never change."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, Unprocessable
from ..events import views as events
from ..ledger.models import LedgerTransaction
from ..money import format_money
from ..periods import Period
from . import policy, statements
from .figures import assert_positions_balance, digest, net, obligation_row
from .ledger_scope import Scope, pair_flows, transactions
from .models import Settlement, SettlementObligation
from .period_view import carried_in, last_closed, parse_period, settlement_of, zone


def close(period_text: str, *, actor: str, netting_mode: str | None = None,
          min_transfer: int | None = None) -> tuple[Settlement, bool]:
    """Close an ended month; return the settlement and whether this call closed it."""
    period = parse_period(period_text)
    existing = settlement_of(period)
    if existing is not None:  # closed already (even by a sandbox clock ahead of ours): the same answer
        _same_terms(existing, netting_mode, min_transfer)
        return existing, False
    if clock.now() < period.ends_at(zone()):
        local_end = period.ends_at(zone()).astimezone(ZoneInfo(zone())).isoformat()
        raise Unprocessable(f"{period} has not ended yet: it can be closed from {local_end}.",
                            code="period_not_ended")
    mode = netting_mode or policy.netting
    minimum = policy.min_transfer if min_transfer is None else min_transfer
    try:
        with unit_of_work() as uow:
            session = uow.session
            _hold_the_ledger(session)
            existing = settlement_of(period)  # closed while we waited for the ledger
            if existing is not None:
                _same_terms(existing, netting_mode, min_transfer)
                return existing, False
            settlement = _close(session, period, mode, minimum, actor)
        return settlement, True
    except IntegrityError:
        # Another process closed this month between our check and our insert: theirs stands.
        existing = settlement_of(period)
        if existing is None:
            raise
        return existing, False


def _hold_the_ledger(session) -> None:
    """Let postings in flight finish, and hold new ones until the close commits, so that the
    watermark covers exactly what the close has read. SQLite's BEGIN IMMEDIATE already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE ledger_transactions IN SHARE MODE")


def _same_terms(existing: Settlement, mode: str | None, minimum: int | None) -> None:
    if (mode not in (None, existing.netting)) or (minimum not in (None, existing.min_transfer)):
        raise Conflict(f"{existing.period} is already closed with {existing.netting} netting and a minimum "
                       f"transfer of {minimum_in_words(existing.min_transfer)}; a closed month is never "
                       "recomputed.", code="period_closed", netting=existing.netting,
                       min_transfer=existing.min_transfer)


def minimum_in_words(minor: int) -> str:
    """The minimum transfer holds in every currency, in its minor units: ¥1.00 (100 minor units)."""
    return f"{format_money(minor, 'CNY')} ({minor} minor units in any currency)"


def _close(session, period: Period, mode: str, minimum: int, actor: str) -> Settlement:
    previous = last_closed()
    if previous is not None and Period.parse(previous.period) > period:
        raise Conflict(f"{previous.period} is already closed; months close in order.", code="later_period_closed")
    _refuse_if_earlier_month_open(session, period, previous)
    through = session.scalar(select(func.coalesce(func.max(LedgerTransaction.id), 0)))
    scope = Scope(period.ends_at(zone()), through,
                  previous.through_transaction_id if previous else None, previous.ends_at if previous else None)
    flows, entry_count = pair_flows(session, scope)
    obligations = net(flows, carried_in(session, previous), minimum)
    assert_positions_balance(obligations)

    rows = [obligation_row(str(period), o) for o in obligations]
    settlement = Settlement(
        period=str(period), starts_at=period.starts_at(zone()), ends_at=period.ends_at(zone()),
        through_transaction_id=through, previous_id=previous.id if previous else None, netting=mode,
        min_transfer=minimum, closed_at=clock.now(), closed_by=actor, entries=entry_count,
        digest=digest({"period": str(period), "netting": mode, "min_transfer": minimum,
                       "obligations": [r["digest"] for r in rows]}))
    session.add(settlement)
    session.flush()
    if rows:
        for row in rows:
            row["settlement_id"] = settlement.id
        session.execute(insert(SettlementObligation.__table__), rows)
    audit.record(session, actor=actor, action="settlement.closed", subject_type="settlement",
                 subject_id=str(period), from_state="open", to_state="closed", pairs=len(rows),
                 entries=entry_count, netting=mode, min_transfer=minimum)
    events.settlement_closed(session, statements.closing_statements(str(period)))
    return settlement


def _refuse_if_earlier_month_open(session, period: Period, previous: Settlement | None) -> None:
    """Activity of a month before this one that no close holds yet: close that month first.
    (Late postings into an already closed month are the next period's, by design.)"""
    t = transactions.c
    query = select(func.min(t.posted_at)).where(t.posted_at < period.starts_at(zone()))
    if previous is not None:
        query = query.where(t.posted_at >= previous.ends_at)
    earliest = session.scalar(query)
    if earliest is not None:
        month = Period.containing(earliest, zone())
        raise Conflict(f"{month} has ledger activity and is not closed yet: close {month} first.",
                       code="earlier_period_open", earliest_open_period=str(month))
