"""The partnership state machine (docs/partners.md, "Partnerships"), move by move and over any
sequence of moves by either side:

    | move               | who                                                | from                      |
    | accept, decline    | the invited side only (the proposer: 403)          | proposed                  |
    | pause              | either side                                        | active                    |
    | resume             | the side that paused                               | paused                    |
    | terminate          | either side; for a proposal, only its proposer     | proposed, active, paused  |

An illegal move is 409 `illegal_transition` with `current_status`; the wrong side gets 403
`not_your_move`. Declined and terminated are final."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from exchange.errors import Conflict, Forbidden
from exchange.partners.lifecycle import Side, next_status

STATUSES = ("proposed", "active", "paused", "declined", "terminated")
FINAL = {"declined", "terminated"}
ACTIONS = ("accept", "decline", "pause", "resume", "terminate")
SIDES = ("proposer", "invited")

# The table of docs/partners.md: move → (the states it starts from, where it leads).
MOVES = {"accept": ({"proposed"}, "active"), "decline": ({"proposed"}, "declined"),
         "pause": ({"active"}, "paused"), "resume": ({"paused"}, "active"),
         "terminate": ({"proposed", "active", "paused"}, "terminated")}


def may(action: str, status: str, side: str, paused_it: bool) -> bool:
    """Who may make the move (the table's "who" column)."""
    if action in ("accept", "decline"):
        return side == "invited"
    if action == "resume":
        return paused_it
    if action == "terminate" and status == "proposed":
        return side == "proposer"
    return True


def documented(action: str, status: str, side: str, paused_it: bool) -> int | str:
    """What the docs say happens: the new status, or the refusal's HTTP status."""
    starts, to = MOVES[action]
    if status not in starts:
        return 409
    return to if may(action, status, side, paused_it) else 403


def attempt(action: str, status: str, side: str, paused_it: bool) -> int | str:
    try:
        return next_status(action, status, Side(is_proposer=side == "proposer", paused_it=paused_it))
    except Conflict as refused:
        assert refused.code == "illegal_transition" and refused.extra["current_status"] == status
        return refused.status
    except Forbidden as refused:
        assert refused.code == "not_your_move" and refused.extra["current_status"] == status
        assert refused.detail  # the cashier's merchant is told why, in words
        return refused.status


def states():
    """Every status with each side's possible pause flag (only a paused partnership has a pauser)."""
    for status, side in product(STATUSES, SIDES):
        for paused_it in ((True, False) if status == "paused" else (False,)):
            yield status, side, paused_it


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status, side, paused_it", list(states()))
def test_every_move_from_every_state_by_either_side_is_as_documented(action, status, side, paused_it):
    assert attempt(action, status, side, paused_it) == documented(action, status, side, paused_it)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", sorted(FINAL))
@pytest.mark.parametrize("side", SIDES)
def test_declined_and_terminated_are_final(action, status, side):
    assert attempt(action, status, side, False) == 409


def test_only_the_side_that_paused_can_resume():
    assert attempt("resume", "paused", "proposer", paused_it=True) == "active"
    assert attempt("resume", "paused", "invited", paused_it=False) == 403
    assert attempt("resume", "paused", "invited", paused_it=True) == "active"
    assert attempt("resume", "paused", "proposer", paused_it=False) == 403


def test_a_proposal_is_answered_by_the_invited_side_and_withdrawn_by_its_proposer():
    assert attempt("accept", "proposed", "proposer", False) == 403
    assert attempt("decline", "proposed", "proposer", False) == 403
    assert attempt("terminate", "proposed", "invited", False) == 403
    assert attempt("terminate", "proposed", "proposer", False) == "terminated"


class Partnership(RuleBasedStateMachine):
    """One partnership between merchants A and B, moved by either of them in any order, with the
    pauser kept as `partners.services.move_partnership` keeps it (`paused_by_id`)."""

    @initialize(proposer=st.sampled_from("AB"))
    def propose(self, proposer):
        self.proposer, self.status, self.paused_by = proposer, "proposed", None
        self.visited = ["proposed"]

    @rule(action=st.sampled_from(ACTIONS), merchant=st.sampled_from("AB"))
    def move(self, action, merchant):
        side = "proposer" if merchant == self.proposer else "invited"
        paused_it = self.paused_by == merchant
        before = self.status
        outcome = attempt(action, before, side, paused_it)
        assert outcome == documented(action, before, side, paused_it)
        if isinstance(outcome, str):
            self.status, self.paused_by = outcome, merchant if action == "pause" else None
            self.visited.append(outcome)
        else:
            assert self.status == before  # a refusal changes nothing

    @invariant()
    def a_known_status_with_a_pauser_exactly_when_paused(self):
        assert self.status in STATUSES
        assert (self.paused_by is not None) == (self.status == "paused")

    @invariant()
    def once_answered_a_partnership_is_never_a_proposal_again(self):
        assert "proposed" not in self.visited[1:]

    @invariant()
    def a_final_status_is_the_last_one(self):
        ended = [i for i, s in enumerate(self.visited) if s in FINAL]
        assert not ended or ended[0] == len(self.visited) - 1

    @invariant()
    def only_an_accepted_partnership_is_ever_active_or_paused(self):
        if {"active", "paused"} & set(self.visited):
            assert self.visited[1] == "active"


Partnership.TestCase.settings = settings(max_examples=300, stateful_step_count=30)
test_any_sequence_of_moves_follows_the_state_machine = Partnership.TestCase
