"""Reading an execution's history: which edge each state was entered by, whose events are
whose when Parallel branches or Map iterations interleave, and what became of each task
token. The events are shaped as Step Functions (and LocalStack 4.14) writes them: each
names the one it followed in `previousEventId`."""

from __future__ import annotations

import json

from sfnlab.workflow.history import DECIDED, EXPIRED, SPENT, WAITING, read_history

INVOKE = "arn:aws:states:::lambda:invoke"
WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


class Events:
    """A history written event by event; each method returns its event's id."""

    def __init__(self, linked: bool = True) -> None:
        self.events: list[dict] = []
        self.linked = linked
        self.add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})

    def add(self, kind: str, after: int, **details) -> int:
        event = {"id": len(self.events) + 1, "type": kind, **details}
        if self.linked:
            event["previousEventId"] = after
        self.events.append(event)
        return event["id"]

    def enter(self, name: str, state_type: str, after: int) -> int:
        details = {"name": name, "input": json.dumps({"at": name})}
        return self.add(f"{state_type}StateEntered", after, stateEnteredEventDetails=details)

    def exit(self, name: str, state_type: str, after: int) -> int:
        details = {"name": name, "output": json.dumps({"from": name})}
        return self.add(f"{state_type}StateExited", after, stateExitedEventDetails=details)

    def task(self, name: str, after: int, token: str | None = None) -> int:
        """A Task that calls its Lambda and succeeds (with a token: hands it out and waits)."""
        entered = self.enter(name, "Task", after)
        payload = {"taskToken": token, "reviewer": name} if token else {"x": 1}
        scheduled = self.schedule(name, entered, token is not None, payload)
        started = self.add("TaskStarted", scheduled)
        if token:
            return self.add(
                "TaskSubmitted",
                started,
                taskSubmittedEventDetails={"output": json.dumps({"Payload": {}})},
            )
        done = self.add(
            "TaskSucceeded", started, taskSucceededEventDetails={"output": '{"Payload": {}}'}
        )
        return self.exit(name, "Task", done)

    def schedule(self, name: str, after: int, waits: bool, payload: dict) -> int:
        details = {
            "resourceType": "lambda",
            "resource": "invoke.waitForTaskToken" if waits else "invoke",
            "parameters": json.dumps({"FunctionName": f"fn-{name}", "Payload": payload}),
        }
        return self.add("TaskScheduled", after, taskScheduledEventDetails=details)

    def decide(self, name: str, after: int, approved: bool) -> int:
        decision = {"approved": approved, "summary": f"{'Approved' if approved else 'Rejected'}"}
        done = self.add(
            "TaskSucceeded", after, taskSucceededEventDetails={"output": json.dumps(decision)}
        )
        return self.exit(name, "Task", done)

    def read(self):
        return read_history("arn:aws:states:us-east-1:1:execution:m:e", self.events)


def sources(history) -> list[tuple[str, str]]:
    """(entered from, state) of each visit, "(start)" for a first state."""
    return [
        (history.visits[v.came_from].name if v.came_from is not None else "(start)", v.name)
        for v in history.visits
    ]


def test_each_state_knows_the_state_it_was_entered_from():
    run = Events()
    last = run.task("CreateCode", 0)
    last = run.task("NotifyReviewers", last, token="token-1")
    last = run.decide("NotifyReviewers", last, approved=False)
    last = run.exit("ReviewDecision", "Choice", run.enter("ReviewDecision", "Choice", last))
    run.add("ExecutionFailed", run.enter("ReviewRejected", "Fail", last))
    history = run.read()
    assert sources(history) == [
        ("(start)", "CreateCode"),
        ("CreateCode", "NotifyReviewers"),
        ("NotifyReviewers", "ReviewDecision"),
        ("ReviewDecision", "ReviewRejected"),
    ]
    assert history.fate("token-1").mark == DECIDED
    assert history.fate("token-1").detail == "Rejected"


def test_a_caught_timeout_is_the_edge_to_its_catcher():
    run = Events()
    last = run.task("NotifyReviewers", 0, token="token-1")
    failed = run.add(
        "TaskTimedOut", last, taskTimedOutEventDetails={"error": "States.Timeout", "cause": ""}
    )
    last = run.exit("NotifyReviewers", "Task", failed)
    run.add("ExecutionFailed", run.enter("ReviewTimedOut", "Fail", last))
    history = run.read()
    review = history.visits[0]
    assert (review.outcome, review.error) == ("caught", "States.Timeout")
    assert sources(history)[1] == ("NotifyReviewers", "ReviewTimedOut")
    fate = history.fate("token-1")
    assert fate.mark == EXPIRED and "States.Timeout" in fate.detail


def parallel_reviews(first_answer: str | None) -> Events:
    """Two reviewers' branches whose events interleave as LocalStack writes them; the
    reviewer `first_answer` (if any) has decided, the other still waits."""
    run = Events()
    entered = run.enter("AskBoth", "Parallel", run.task("CreateBranch", 0))
    started = run.add("ParallelStateStarted", entered)
    ana = run.enter("AskAna", "Task", started)
    ana = run.add("TaskStarted", run.schedule("AskAna", ana, True, {"taskToken": "token-ana"}))
    bob = run.enter("AskBob", "Task", started)
    bob = run.add("TaskStarted", run.schedule("AskBob", bob, True, {"taskToken": "token-bob"}))
    output = {"output": '{"Payload": {}}'}
    ana = run.add("TaskSubmitted", ana, taskSubmittedEventDetails=output)
    bob = run.add("TaskSubmitted", bob, taskSubmittedEventDetails=output)
    if first_answer == "AskBob":
        run.decide("AskBob", bob, approved=True)
    elif first_answer == "AskAna":
        run.decide("AskAna", ana, approved=True)
    return run


def test_interleaved_branches_each_get_their_own_events_and_calls():
    history = parallel_reviews("AskBob").read()
    ana, bob = history.visit("AskAna"), history.visit("AskBob")
    assert (ana.outcome, bob.outcome) == ("waiting", "succeeded")
    assert [e["type"] for e in bob.events][-1] == "TaskSucceeded"
    assert "TaskSucceeded" not in [e["type"] for e in ana.events]
    assert {(c.state, c.answer) for c in history.calls if c.waits_for_token} == {
        ("AskAna", None),
        ("AskBob", "success"),
    }
    assert history.waiting_call().state == "AskAna"
    assert sources(history)[2:] == [("(start)", "AskAna"), ("(start)", "AskBob")]


def test_each_reviewers_token_has_its_own_fate():
    for decided, waiting in (("AskBob", "AskAna"), ("AskAna", "AskBob")):
        history = parallel_reviews(decided).read()
        token = {"AskAna": "token-ana", "AskBob": "token-bob"}
        assert history.fate(token[decided]).mark == DECIDED
        assert history.fate(token[waiting]).mark == WAITING
        assert history.fate(token[waiting]).state == waiting
    assert parallel_reviews(None).read().fate("token-nobody-issued") is None


def test_a_stopped_execution_spends_its_waiting_token():
    run = parallel_reviews(None)
    run.add("ExecutionAborted", len(run.events), executionAbortedEventDetails={})
    history = run.read()
    fate = history.fate("token-ana")
    assert fate.mark == SPENT and "stopped" in fate.detail


def test_a_retried_notification_spends_the_first_token():
    run = Events()
    entered = run.enter("NotifyReviewers", "Task", 0)
    first = run.schedule("NotifyReviewers", entered, True, {"taskToken": "token-1"})
    failed = run.add(
        "TaskFailed",
        run.add("TaskStarted", first),
        taskFailedEventDetails={"error": "InboxUnreachable", "cause": "no inbox"},
    )
    again = run.schedule("NotifyReviewers", failed, True, {"taskToken": "token-2"})
    run.add("TaskSubmitted", run.add("TaskStarted", again), taskSubmittedEventDetails={})
    history = run.read()
    visit = history.visits[0]
    assert (visit.attempts, visit.outcome) == (2, "waiting")
    assert history.fate("token-1").mark == SPENT
    assert "tried again" in history.fate("token-1").detail
    assert history.fate("token-2").mark == WAITING


def test_a_loop_enters_its_states_again_each_from_the_one_before():
    run = Events()
    last = run.exit("Count", "Pass", run.enter("Count", "Pass", 0))
    for _ in range(2):
        last = run.exit("Again", "Choice", run.enter("Again", "Choice", last))
        last = run.exit("Count", "Pass", run.enter("Count", "Pass", last))
    history = run.read()
    assert sources(history) == [
        ("(start)", "Count"),
        ("Count", "Again"),
        ("Again", "Count"),
        ("Count", "Again"),
        ("Again", "Count"),
    ]


def test_interleaved_map_iterations_each_follow_their_own_item():
    run = Events()
    entered = run.enter("Each", "Map", 0)
    started = run.add("MapStateStarted", entered)
    first = run.add("MapIterationStarted", started, mapIterationStartedEventDetails={"index": 0})
    second = run.add("MapIterationStarted", started, mapIterationStartedEventDetails={"index": 1})
    one_a = run.enter("One", "Pass", first)
    one_b = run.enter("One", "Pass", second)
    one_b = run.exit("One", "Pass", one_b)
    one_a = run.exit("One", "Pass", one_a)
    two_b = run.exit("Two", "Pass", run.enter("Two", "Pass", one_b))
    two_a = run.exit("Two", "Pass", run.enter("Two", "Pass", one_a))
    done = run.add("MapIterationSucceeded", two_b)
    run.add("MapIterationSucceeded", two_a)
    run.exit("Each", "Map", run.add("MapStateSucceeded", done))
    history = run.read()
    names = [v.name for v in history.visits]
    assert names == ["Each", "One", "One", "Two", "Two"]
    # Iteration 1's Two (entered first) came from iteration 1's One, the visit at 2.
    assert [v.came_from for v in history.visits] == [None, None, None, 2, 1]
    assert all(v.outcome == "succeeded" for v in history.visits)


def test_a_failed_branch_cancels_its_sibling_and_its_parallel_is_caught():
    run = Events()
    entered = run.enter("Both", "Parallel", 0)
    started = run.add("ParallelStateStarted", entered)
    left = run.exit("L1", "Pass", run.enter("L1", "Pass", started))
    run.enter("L2", "Wait", left)
    right = run.exit("R1", "Pass", run.enter("R1", "Pass", started))
    failed = run.add("ParallelStateFailed", run.enter("R2", "Fail", right))
    last = run.exit("Both", "Parallel", failed)
    run.exit("Handled", "Pass", run.enter("Handled", "Pass", last))
    run.add("ExecutionSucceeded", len(run.events))
    outcome = {v.name: v.outcome for v in run.read().visits}
    assert outcome == {
        "Both": "caught",
        "L1": "succeeded",
        "L2": "cancelled",
        "R1": "succeeded",
        "R2": "failed",
        "Handled": "succeeded",
    }
    assert sources(run.read())[-1] == ("Both", "Handled")


def test_without_links_between_events_the_order_of_entries_tells_the_path():
    run = Events(linked=False)
    last = run.task("CreateCode", 0)
    last = run.exit("Decide", "Choice", run.enter("Decide", "Choice", last))
    run.exit("Done", "Pass", run.enter("Done", "Pass", last))
    history = run.read()
    assert sources(history) == [
        ("(start)", "CreateCode"),
        ("CreateCode", "Decide"),
        ("Decide", "Done"),
    ]
    assert history.visits[0].attempts == 1 and len(history.visits[0].events) == 3
