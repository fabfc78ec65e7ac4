"""The partnership state machine, pure: which move is legal, from which state, for which side.

    proposed ──accept──▶ active ◀──resume── paused
        │                  │  └────pause────▶  │
     decline            terminate           terminate
        ▼                  ▼                   ▼
     declined          terminated          terminated

A proposal is accepted or declined by the side that did not propose it, and withdrawn
(terminated) only by the side that did. Either side may pause or terminate a live partnership;
only the side that paused it may resume it, so a pause means something.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Conflict, Forbidden


@dataclass(frozen=True)
class Side:
    is_proposer: bool
    paused_it: bool = False


def _partner(side: Side, status: str) -> bool:
    return not side.is_proposer


def _either(side: Side, status: str) -> bool:
    return True


def _terminator(side: Side, status: str) -> bool:
    return side.is_proposer if status == "proposed" else True


def _pauser(side: Side, status: str) -> bool:
    return side.paused_it


# action: (states it may start from, state it leads to, who may make it, why others may not)
MOVES = {
    "accept": ({"proposed"}, "active", _partner, "Only the invited side can accept a proposal."),
    "decline": ({"proposed"}, "declined", _partner, "Only the invited side can decline a proposal."),
    "pause": ({"active"}, "paused", _either, ""),
    "resume": ({"paused"}, "active", _pauser, "Only the side that paused the partnership can resume it."),
    "terminate": ({"proposed", "active", "paused"}, "terminated", _terminator,
                  "The invited side declines a proposal rather than terminating it."),
}


def next_status(action: str, status: str, side: Side) -> str:
    """The status after `action`, or a refusal: 409 for an illegal move, 403 for the wrong side."""
    starts, to, allowed, why = MOVES[action]
    if status not in starts:
        raise Conflict(f"Cannot {action} a partnership that is {status}.", code="illegal_transition",
                       current_status=status)
    if not allowed(side, status):
        raise Forbidden(why, code="not_your_move", current_status=status)
    return to
