"""When a sender is warned or paused, judged inside the write transaction.

A reaction of the write pipeline (``projections.pipeline``, step 6): after the views
applied a batch, every sender whose counts moved is judged — AWS's bounce and complaint
thresholds over the counts the batch just wrote (``projections.senders.volumes_in``, one
statement with the batch's cursor), and its spike of sender-side rejections (SPEC §3.1) —
and a change of state is recorded in the same transaction: the send that crosses a
threshold and the pause it causes commit together, and the next send sees the pause. The
rules themselves are ``domain.sender``'s; a pause waits for an admin.
"""

from __future__ import annotations

from datetime import datetime

from domain.ledger import judge_senders
from domain.rejection_alerts import RejectionPolicy, rejection_alert
from domain.sender import ACTIVE, PAUSED, Judgement, SenderPolicy, judge
from projections.base import Applied
from projections.pipeline import Batch
from projections.sender_rejections import SenderRejectionsView, rejections_in
from projections.senders import SendersView, volumes_in


class SenderRules:
    """A reaction of the write pipeline: judge each sender whose volume moved in this batch,
    from the counts the batch just wrote, and record a change of state in the same batch."""

    def __init__(self, view: SendersView, policy: SenderPolicy,
                 rejections: RejectionPolicy | None = None) -> None:
        self.view, self.policy = view, policy
        self.rejections = rejections or RejectionPolicy()

    def __call__(self, batch: Batch, applied: Applied) -> None:
        moved: dict[str, datetime] = {}
        for view, change in applied.changes:
            if view is self.view and change:
                for sender, moment in change.items():
                    moved[sender] = max(moved.get(sender, moment), moment)
        if not moved:
            return
        cur = batch.cur
        rejected = _rejected_senders(applied)
        judgements: dict[str, tuple[Judgement, datetime]] = {}
        for sender, (week, hour, state) in volumes_in(cur, moved).items():
            # A spike of sender-side rejections (SPEC §3.1) warns when no rate rule applies;
            # read with this batch's cursor, so this batch's rejections count. An active
            # sender with no new rejection cannot have started a spike: not read.
            alert = rejection_alert(
                rejections_in(cur, sender, moved[sender], self.rejections.window),
                self.rejections) if sender in rejected or state != ACTIVE else None
            judgement = judge(week, hour, self.policy, alert)
            if judgement.state != state and state != PAUSED:
                judgements[sender] = (judgement, moved[sender])
        if judgements:
            judge_senders(batch, judgements)


def _rejected_senders(applied: Applied) -> set[str]:
    """Senders charged with a sender-side rejection in this batch."""
    return {sender for view, change in applied.changes
            if isinstance(view, SenderRejectionsView) and change for sender in change}
