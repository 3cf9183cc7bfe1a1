"""Which text of a goal the planner reads: the one a person who may steer filed or approved.

A goal's text is approved by an act of someone the `Gate` allows (write access by default):

- applying the goal label (found with GitHub's issue events API: the newest `labeled` event of
  the goal label names its `actor`; a goal filed with the label has one too, by its author);
- `/orchestra plan` (the command job has checked the sender; `replan` keeps the approved text);
- editing the goal's text (the `goal_edited` job, from the `issues.edited` webhook's sender).

The approved title and body are kept on the goal (`bot/ledger/record.py`: the `goal-text`
comment, its digest in the planner's record), and every planning run reads them instead of the
issue (`approved_goal`). An edit by anyone else is recorded (the status comment says the text
differs) and never reaches a prompt. One race is left to detect after the fact: an edit made
between the approving act and the moment a job reads the text (seconds, usually) would be
approved with it; the edit's own job sees that its text is the approved one and that it was made
within that window, withdraws the approval and pauses the goal (`_withdraw`).
"""

from __future__ import annotations

from bot.errors import GoalNotApproved
from bot.forge.limits import MAX_BODY_CHARS
from bot.forge.types import Comment, Issue, IssueEvent
from bot.ledger import comments, labels
from bot.ledger.goaltext import (
    MAX_GOAL_CHARS,
    Approval,
    ApprovedText,
    GoalEdit,
    digest,
    human_body,
    moment,
    too_long,
)
from bot.ledger.goalview import read_goal
from bot.ledger.labels import Kind, State, label_name
from bot.ledger.record import (
    TEXT_MARKER,
    PlannerRecord,
    approved_text_body,
    load_record,
    read_approved_text,
)
from bot.planner.conclude import save_status
from bot.planner.context import Planner
from bot.steering import Gate, ignored_text, notice_once

WHERE_TEXT = "the goal issue holds the whole text"


def approved_goal(planner: Planner, goal: Issue) -> Issue:
    """`goal` with the approved title and body, as the planner's prompt may show it.

    When nobody approved a text yet, the current one is approved if the person who made the
    issue a goal may steer; otherwise GoalNotApproved.
    """
    text = ensure_approved(planner, goal.number)
    if text is None:
        raise GoalNotApproved(f"#{goal.number} has no goal text approved by someone with write access")
    return goal.model_copy(update={"title": text.title, "body": text.body})


def ensure_approved(planner: Planner, number: int) -> ApprovedText | None:
    """The goal's approved text; approved now from the goal label's actor when there is none yet.

    None (after saying why, once, on the goal) when the label's actor may not steer, the text is
    too long, an unapproved edit came after the label, or the approval was withdrawn.
    """
    goal = planner.forge.get_issue(number)
    listing = planner.forge.list_comments(number)
    record = load_record(planner.forge, number, listing)
    current = approved(planner, listing, record)
    if current is not None or (record.approval is not None and record.approval.withdrawn):
        return current
    event = goal_labeler(planner, number)
    gate = Gate(planner.forge, planner.config)
    if event is None:
        _say(
            planner,
            number,
            "no-labeler",
            "I could not find who made this issue a goal, so I will not plan it. "
            "Someone with write access can comment `/orchestra plan`.",
        )
        return None
    if not gate.allows(event.actor):
        notice_once(
            planner.forge, number, event.actor, ignored_text(event.actor, "making this issue a goal", gate.needed)
        )
        return None
    edit = record.goal_edit
    if (
        edit is not None
        and edit.sha256 == digest(goal.title, goal.body)
        and edit.at >= moment(event.created_at)
        and not gate.allows(edit.by)
    ):
        _say(
            planner,
            number,
            "approval-needed",
            f"@{event.actor} made this issue a goal, but @{edit.by} (without "
            "write access) changed its text afterwards, so I will not plan from it. Someone with write access: "
            "`/orchestra plan` approves the current text.",
        )
        return None
    how = "bot" if event.actor.lower() == planner.forge.bot_login.lower() else "label"
    return approve(planner, goal, record, by=event.actor, how=how, since=event.created_at)


def approved(planner: Planner, listing: list[Comment], record: PlannerRecord) -> ApprovedText | None:
    """The approved text kept on the goal, when the record names it and it was not withdrawn."""
    if record.approval is None or record.approval.withdrawn:
        return None
    text = read_approved_text(planner.forge, listing)
    return text if text is not None and text.approval.sha256 == record.approval.sha256 else None


def goal_labeler(planner: Planner, number: int) -> IssueEvent | None:
    """The newest `labeled` event of the repository's goal label on issue `number`."""
    goal_label = label_name(planner.config.label_prefix, Kind.GOAL)
    found = [e for e in planner.forge.issue_events(number) if e.event == "labeled" and e.label == goal_label]
    return found[-1] if found else None


def approve(
    planner: Planner, goal: Issue, record: PlannerRecord, *, by: str, how: str, since: str
) -> ApprovedText | None:
    """Make `goal`'s current text the approved one (the `goal-text` comment, then the record); None when too long."""
    if (size := too_long(goal.title, goal.body)) is not None:
        _say(
            planner,
            goal.number,
            "goal-too-long",
            f"This goal's text is {size:,} characters; the orchestra plans "
            f"from at most {MAX_GOAL_CHARS:,} (GitHub allows 65,536 per body, and the approved copy must fit in "
            "a comment). Shorten it, then comment `/orchestra plan`.",
        )
        return None
    approval = Approval.model_validate(
        {"sha256": digest(goal.title, goal.body), "by": by, "how": how, "since": moment(since or None), "at": moment()}
    )
    text = ApprovedText(title=goal.title.strip(), body=human_body(goal.body), approval=approval)
    body = approved_text_body(text)
    if len(body) > MAX_BODY_CHARS:  # a text of many short lines grows when it is kept as JSON
        _say(
            planner,
            goal.number,
            "goal-too-long",
            f"This goal's text takes {len(body):,} characters to keep "
            f"as the approved copy; a comment may hold {MAX_BODY_CHARS:,}. Shorten it, then comment `/orchestra plan`.",
        )
        return None
    comments.upsert(planner.forge, goal.number, TEXT_MARKER, body, where=WHERE_TEXT)
    _save_record(planner, goal.number, record.model_copy(update={"approval": approval}))
    return text


def goal_edited(planner: Planner, number: int, sender: str, text_sha256: str, edited_at: str) -> str:
    """The `goal_edited` job's core: a writer's edit approves the text they left; anyone else's is recorded
    (the status says the text differs), told once, and never used. Returns what it did."""
    goal = planner.forge.get_issue(number)
    if goal.is_pull or goal.state == "closed" or label_name(planner.config.label_prefix, Kind.GOAL) not in goal.labels:
        return "not an open goal"
    listing = planner.forge.list_comments(number)
    record = load_record(planner.forge, number, listing)
    current = approved(planner, listing, record)
    gate = Gate(planner.forge, planner.config)
    if gate.allows(sender):
        if record.approval is None:
            return "no approval yet: the plan job approves the text of whoever made it a goal"
        if digest(goal.title, goal.body) != text_sha256:
            return "the text changed again since: that edit decides"
        if current is not None and current.approval.sha256 == text_sha256:
            return "already the approved text"
        return "approved" if approve(planner, goal, record, by=sender, how="edit", since=edited_at) else "too long"
    edit = GoalEdit(sha256=text_sha256, by=sender, at=moment(edited_at or None))
    if current is not None and _within_window(current.approval, edit):
        _withdraw(planner, goal, record, current, edit)
        return "approval withdrawn"
    _save_record(planner, number, record.model_copy(update={"goal_edit": edit}))
    if record.approval is None or record.approval.sha256 != text_sha256:
        notice_once(planner.forge, number, sender, ignored_text(sender, "your edit of this goal", gate.needed))
    return "edit recorded, not used"


def _within_window(approval: Approval, edit: GoalEdit) -> bool:
    """True when an edit by someone else made the very text that was approved, between the approving act
    and the moment its text was read: the approval took in an edit nobody approved."""
    return edit.sha256 == approval.sha256 and edit.by != approval.by and approval.since <= edit.at <= approval.at


def _withdraw(planner: Planner, goal: Issue, record: PlannerRecord, current: ApprovedText, edit: GoalEdit) -> None:
    reason = (
        f"@{edit.by} (without write access) edited the text at {edit.at}, between @{current.approval.by}'s "
        f"approval at {current.approval.since} and the moment it was read, so the approved text may be theirs. "
        "The goal is paused."
    )
    approval = current.approval.model_copy(update={"withdrawn": reason, "at": moment()})
    comments.upsert(
        planner.forge,
        goal.number,
        TEXT_MARKER,
        approved_text_body(current.model_copy(update={"approval": approval})),
        where=WHERE_TEXT,
    )
    labels.ensure(planner.forge, planner.config)
    planner.forge.add_labels(goal.number, label_name(planner.config.label_prefix, State.PAUSED))
    _save_record(planner, goal.number, record.model_copy(update={"approval": approval, "goal_edit": edit}))


def approve_current(planner: Planner, number: int, sender: str, comment_id: int) -> tuple[bool, str | None]:
    """`/orchestra plan` by someone who may steer: approve the goal's current text.

    (True, None) when a new text was approved, (False, None) when it already was, (False, why) when
    it cannot be (too long).
    """
    goal = planner.forge.get_issue(number)
    listing = planner.forge.list_comments(number)
    record = load_record(planner.forge, number, listing)
    current = approved(planner, listing, record)
    if current is not None and current.approval.sha256 == digest(goal.title, goal.body):
        return False, None
    since = next((c.created_at for c in listing if c.id == comment_id), "")
    if approve(planner, goal, record, by=sender, how="command", since=since) is None:
        return False, f"The goal's text is over {MAX_GOAL_CHARS:,} characters; shorten it first."
    return True, None


def _save_record(planner: Planner, number: int, record: PlannerRecord) -> None:
    save_status(planner, read_goal(planner.forge, planner.config, number).with_record(record))


def _say(planner: Planner, number: int, tag: str, text: str) -> None:
    """One note on the goal per kind of refusal, edited in place (never a new comment for the same reason)."""
    comments.upsert(planner.forge, number, tag, text)
