"""GitHub's merge queue on localhub (`hub.merge_queue`), for a base whose ruleset has a `merge_queue` rule.

A PR joins with GraphQL `enqueuePullRequest` (its required checks must have passed) or through
auto-merge. The first `max_entries_to_build` entries get a group branch
(`gh-readonly-queue/<base>/pr-<n>-<head sha>`, built on the previous entry's group or the base
tip, see `localhub.mergegroups`), a `push` and `merge_group checks_requested`, and local CI runs
on the group head. When the required checks of groups succeed (ALLGREEN: every group up to the
landing one; HEADGREEN: the landing one), the base fast-forwards to the group head (at most
`max_entries_to_merge` PRs at once): each PR is merged (`pull_request closed`, closing keywords),
the base is pushed, the group branches are deleted and `merge_group destroyed` (`merged`) is sent.
A group whose checks fail (with every group ahead of it green) removes its PR
(`merge_group destroyed` `dequeued`, `pull_request dequeued` `CI_FAILURE`); the groups behind it
are destroyed (`invalidated`) and rebuilt without it. Not implemented: `min_entries_to_merge`
(and its wait), `check_response_timeout_minutes`, `solo` entries.
"""

from __future__ import annotations

import threading
from typing import Any

from localhub import gitops, mergegroups, pullstore, queuestore
from localhub.mergegroups import QUEUE_BOT, GroupConflict
from localhub.protection import BranchRules, rules_for, unmet_checks
from localhub.repos import git_for
from localhub.store import Row


class QueueError(Exception):
    """A queue operation GitHub refuses: `kind` is the GraphQL error type, the message its text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class MergeQueue:
    """The merge queues of one hub (one per repository base branch with a merge queue rule)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.store = hub.store
        self._lock = threading.RLock()
        self._settling = False  # read and written only by the thread holding _lock

    def bot(self) -> Row:
        return self.store.ensure_user(QUEUE_BOT, "Bot")

    # -- joining and leaving ----------------------------------------------------------------
    def enqueue(self, repo: Row, pull: Row, user: Row, jump: bool = False, expected_head: str | None = None) -> Row:
        """Add the PR to its base's queue (GraphQL `enqueuePullRequest`); the entry."""
        with self._lock:
            existing = queuestore.entry_for_pull(self.store, pull["issue_id"])
            if existing is not None:
                return existing
            rules = rules_for(self.store, repo, pull["base_ref"])
            self._check_enqueue(repo, pull, rules, expected_head)
            entry = queuestore.add_entry(self.store, pull, user["id"], jump)
            self.hub.pulls.emit(repo, "enqueued", pull, user)
            self._settle(repo, pull["base_ref"])
            return queuestore.entry(self.store, entry["id"]) or entry

    def _check_enqueue(self, repo: Row, pull: Row, rules: BranchRules, expected_head: str | None) -> None:
        if pull["state"] != "open" or pull["merged"]:
            raise QueueError("UNPROCESSABLE", "Pull request is closed")
        if rules.merge_queue is None:
            raise QueueError("UNPROCESSABLE", f"Merge queue is not enabled for the {pull['base_ref']} branch")
        if expected_head and expected_head != pull["head_sha"]:
            raise QueueError("UNPROCESSABLE", "The expected head OID does not match the pull request's head")
        if pull["draft"]:
            raise QueueError("UNPROCESSABLE", "Draft pull requests cannot be added to the merge queue")
        git_dir = git_for(self.store, repo).path
        base = gitops.rev_parse(git_dir, f"refs/heads/{pull['base_ref']}") or pull["base_sha"]
        if not gitops.check_merge(git_dir, base, pull["head_sha"]).clean:
            raise QueueError("UNPROCESSABLE", "Pull request is not mergeable: it has conflicts with the base branch")
        unmet = unmet_checks(self.store, repo["id"], pull["head_sha"], rules.checks)
        if unmet:
            raise QueueError(
                "UNPROCESSABLE",
                "Pull request is not mergeable: required status checks have not "
                f"succeeded ({', '.join(c for c, _ in unmet)})",
            )

    def dequeue(self, repo: Row, pull: Row, user: Row, reason: str = "MANUAL") -> Row | None:
        """Remove the PR from its queue (GraphQL `dequeuePullRequest`); the removed entry, if any."""
        with self._lock:
            entry = queuestore.entry_for_pull(self.store, pull["issue_id"])
            if entry is None:
                return None
            self._remove(repo, entry, reason, "dequeued", user)
            self._settle(repo, entry["base_ref"])
            return entry

    def _remove(self, repo: Row, entry: Row, reason: str, destroyed: str, sender: Row) -> None:
        if entry["group_sha"]:
            self._destroy_group(repo, entry, destroyed)
        queuestore.remove_entry(self.store, entry["id"])
        pull = pullstore.pull_by_issue(self.store, entry["pull_id"])
        self.hub.pulls.emit(repo, "dequeued", pull, sender, reason=reason)

    def _destroy_group(self, repo: Row, entry: Row, reason: str) -> None:
        bot = self.bot()
        mergegroups.push_ref(self.hub, repo, entry["group_ref"], None, bot)
        mergegroups.emit(self.hub, repo, "destroyed", entry, bot, reason)
        queuestore.update_entry(
            self.store, entry["id"], group_ref=None, group_sha=None, group_base_sha=None, built_at=None, state="QUEUED"
        )

    # -- reacting to the forge --------------------------------------------------------------
    def checks_changed(self, repo: Row, sha: str) -> None:
        """Checks or statuses of `sha` changed: a group head may be green (or red) now."""
        with self._lock:
            for base in {e["base_ref"] for e in queuestore.entries_with_group(self.store, repo["id"], sha)}:
                self._settle(repo, base)

    def on_push(self, repo: Row, ref: str, old: str, new: str, pusher: Row) -> None:
        """A push to a queued PR's head removes it; a base moved by someone else rebuilds its groups."""
        if not ref.startswith("refs/heads/") or ref.startswith(mergegroups.REF_PREFIX):
            return
        branch = ref.removeprefix("refs/heads/")
        with self._lock:
            for base in queuestore.queued_bases(self.store, repo["id"]):
                for entry in queuestore.entries(self.store, repo["id"], base):
                    pull = pullstore.pull_by_issue(self.store, entry["pull_id"])
                    if pull["head_ref"] == branch and new != entry["head_sha"]:
                        self._remove(repo, entry, "UNKNOWN_REMOVAL_REASON", "dequeued", pusher)
                self._settle(repo, base)

    def pull_closed(self, repo: Row, pull: Row, user: Row) -> None:
        """A queued PR closed without merging leaves the queue."""
        self.dequeue(repo, pull, user, "MANUAL")

    def rules_changed(self, repo: Row) -> None:
        with self._lock:
            for base in queuestore.queued_bases(self.store, repo["id"]):
                self._settle(repo, base)

    # -- the queue's work -------------------------------------------------------------------
    def _settle(self, repo: Row, base_ref: str) -> None:
        """Build missing groups, land green ones, drop red ones, until nothing changes.

        Pushes made while settling (group branches, the landed base) come back through `on_push`
        in the same thread; those nested calls return at once, as the running loop re-reads the queue.
        """
        if self._settling:
            return
        self._settling = True
        try:
            self._settle_rounds(repo, base_ref)
        finally:
            self._settling = False

    def _settle_rounds(self, repo: Row, base_ref: str) -> None:
        for _ in range(100):  # each round lands or drops at least one entry, or stops
            rules = rules_for(self.store, repo, base_ref)
            if rules.merge_queue is None:
                for entry in queuestore.entries(self.store, repo["id"], base_ref):
                    self._remove(repo, entry, "QUEUE_CLEARED", "dequeued", self.bot())
                return
            self._build(repo, base_ref, rules)
            if not self._step(repo, base_ref, rules):
                return

    def _build(self, repo: Row, base_ref: str, rules: BranchRules) -> None:
        """Make each of the first `max_entries_to_build` entries a group on the one before it."""
        params = rules.merge_queue or {}
        limit = max(1, int(params.get("max_entries_to_build", 5)))
        git = git_for(self.store, repo)
        on = git.branches().get(base_ref)
        if on is None:
            return
        for position, entry in enumerate(queuestore.entries(self.store, repo["id"], base_ref)):
            if entry["group_sha"] and (position >= limit or entry["group_base_sha"] != on):
                self._destroy_group(repo, entry, "invalidated")
                entry = queuestore.entry(self.store, entry["id"]) or entry
            if position >= limit:
                continue
            if not entry["group_sha"]:
                built = self._build_one(repo, entry, on, str(params.get("merge_method", "MERGE")))
                if built is None:
                    continue
                entry = built
            on = entry["group_sha"]

    def _build_one(self, repo: Row, entry: Row, on: str, method: str) -> Row | None:
        """Create the entry's group on `on`: branch, push, `checks_requested`, CI. None on conflict."""
        pull = pullstore.pull_by_issue(self.store, entry["pull_id"])
        enqueuer = self.store.user_by_id(entry["enqueuer_id"])
        try:
            sha = mergegroups.group_commit(self.hub, repo, pull, on, method, enqueuer)
        except GroupConflict:
            self._remove(repo, entry, "MERGE_CONFLICT", "dequeued", self.bot())
            return None
        ref = mergegroups.group_ref(entry["base_ref"], entry["number"], entry["head_sha"])
        queuestore.update_entry(
            self.store, entry["id"], group_ref=ref, group_sha=sha, group_base_sha=on, state="AWAITING_CHECKS"
        )
        built = queuestore.entry(self.store, entry["id"])
        assert built is not None
        bot = self.bot()
        mergegroups.push_ref(self.hub, repo, ref, sha, bot)
        mergegroups.emit(self.hub, repo, "checks_requested", built, bot)
        self.hub.pulls.run_ci(repo, ref.removeprefix("refs/heads/"), sha, "merge_group", bot)
        return built

    def _states(self, repo: Row, entries: list[Row], rules: BranchRules) -> list[str]:
        """success / pending / failure of the required checks on each built group, in queue order."""
        states = []
        for entry in entries:
            if not entry["group_sha"]:
                break
            unmet = unmet_checks(self.store, repo["id"], entry["group_sha"], rules.checks)
            state = "failure" if any(s == "failure" for _, s in unmet) else "pending" if unmet else "success"
            queuestore.update_entry(
                self.store,
                entry["id"],
                state={"success": "MERGEABLE", "failure": "UNMERGEABLE"}.get(state, "AWAITING_CHECKS"),
            )
            states.append(state)
        return states

    def _step(self, repo: Row, base_ref: str, rules: BranchRules) -> bool:
        """Land the green groups at the front, or drop the first red one; whether anything changed."""
        params = rules.merge_queue or {}
        entries = queuestore.entries(self.store, repo["id"], base_ref)
        states = self._states(repo, entries, rules)
        most = max(1, int(params.get("max_entries_to_merge", 5)))
        head_green = params.get("grouping_strategy") == "HEADGREEN"
        land = 0
        for index, state in enumerate(states[:most]):
            if state == "failure":
                break
            if state == "success" and (head_green or all(s == "success" for s in states[:index])):
                land = index + 1
        if land:
            return self._land(repo, base_ref, entries[:land])
        for index, state in enumerate(states):
            if state == "failure" and all(s == "success" for s in states[:index]):
                self._remove(repo, entries[index], "CI_FAILURE", "dequeued", self.bot())
                return True
            if state != "success":
                break
        return False

    def _land(self, repo: Row, base_ref: str, landing: list[Row]) -> bool:
        """Fast-forward the base to the last landing group; merge its PRs; clean the groups up."""
        git_dir = git_for(self.store, repo).path
        old, new = landing[0]["group_base_sha"], landing[-1]["group_sha"]
        try:
            gitops.update_ref(git_dir, f"refs/heads/{base_ref}", new, old=old)
        except gitops.RefConflict:  # the base moved: the next build round rebuilds every group
            return True
        bot = self.bot()
        for entry in landing:
            pull = pullstore.pull_by_issue(self.store, entry["pull_id"])
            queuestore.remove_entry(self.store, entry["id"])
            queuestore.clear_auto_merge(self.store, entry["pull_id"])
            self.hub.pulls.record_merge(
                repo,
                pull,
                bot,
                merge_sha=entry["group_sha"],
                base_before=entry["group_base_sha"],
                head=entry["head_sha"],
            )
        self.hub.notify_push(repo, [(f"refs/heads/{base_ref}", old, new)], bot)
        for entry in landing:
            mergegroups.push_ref(self.hub, repo, entry["group_ref"], None, bot)
            mergegroups.emit(self.hub, repo, "destroyed", entry, bot, "merged")
        return True
