"""Which reviews in the inbox can still be decided: the kit finds out and tells the inbox.

The inbox cannot ask Step Functions: it needs nothing but the standard library and, in
Docker, runs on a bare Python without an AWS client or credentials. So the kit, which
has both, reads the history of each execution a reviewers' notification names, finds
what became of the notification's token (`History.fate`: waiting, decided, expired or
spent) and posts one mark per notification to the inbox (`POST /api/marks`), which
keeps them with its requests and shows them on its page. Pushing rather than having the
page ask the kit keeps the inbox's page same-origin and working whether or not a kit
process runs: a mark shows what the kit last found, and the page says when that was.

The live picture (`sfnlab graph --watch`) posts marks each second while it runs (a
decision made any way at all, `awslocal` included, shows within a second or two); a
review's mark that is final (decided, expired, spent) is not looked at again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from sfnlab.errors import LearnerError
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.workflow.history import DECIDED, EXPIRED, SPENT, fetch_events, read_history

LOG = logging.getLogger(__name__)
FINAL = (DECIDED, EXPIRED, SPENT)  # a token's fate that never changes again
GONE = "its execution is gone: LocalStack was restarted since, and forgot it"


@dataclass(frozen=True)
class ReviewMark:
    request: int  # the inbox's id of the notification
    mark: str  # waiting, decided, expired or spent
    detail: str


class MarkKeeper:
    """Works out the marks of the reviews in the inbox, each execution's history read
    once per round; a review whose mark is final is not looked at again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.final: dict[int, ReviewMark] = {}
        self.posted: dict[int, ReviewMark] = {}

    def marks(self, execution_arn: str | None = None) -> list[ReviewMark]:
        """The marks of the reviewers' notifications (of one execution, if given) that
        name their execution's ARN and whose token's fate is not final yet."""
        from sfnlab.workflow.approval import review_requests

        by_execution: dict[str, list] = {}
        for review in review_requests(self.settings):
            if not review.execution_arn or review.inbox_id in self.final:
                continue
            if execution_arn is None or review.execution_arn == execution_arn:
                by_execution.setdefault(review.execution_arn, []).append(review)
        sfn = client("stepfunctions", self.settings)
        found = []
        for arn, reviews in by_execution.items():
            try:
                history = read_history(arn, fetch_events(sfn, arn))
            except sfn.exceptions.ExecutionDoesNotExist:
                found += [ReviewMark(review.inbox_id, SPENT, GONE) for review in reviews]
                continue
            for review in reviews:
                fate = history.fate(review.token)
                if fate is None:  # no task of its execution handed this token out
                    detail = "no task of its execution handed out this token"
                    found.append(ReviewMark(review.inbox_id, SPENT, detail))
                else:
                    found.append(ReviewMark(review.inbox_id, fate.mark, fate.detail))
        for mark in found:
            if mark.mark in FINAL:
                self.final[mark.request] = mark
        return found

    def publish(self, execution_arn: str | None = None) -> int:
        """Post the marks that changed since the last post (none at all, too: the inbox
        then knows the kit still checks); how many the inbox changed."""
        from sfnlab.inbox import InboxClient

        marks = [m for m in self.marks(execution_arn) if self.posted.get(m.request) != m]
        changed = InboxClient(self.settings.inbox_url).post_marks([asdict(m) for m in marks])
        self.posted.update({mark.request: mark for mark in marks})
        return changed


def publish_marks(settings: Settings, execution_arn: str | None = None) -> int:
    """Post the marks of the inbox's reviews (of one execution, if given), once; how many
    the inbox changed. What fails here (the inbox or LocalStack not answering) is noted
    in the log and changes nothing else: the marks are a convenience."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return MarkKeeper(settings).publish(execution_arn)
    except (LearnerError, OSError, BotoCoreError, ClientError) as e:
        LOG.info("review marks not posted: %s", e)
        return 0
