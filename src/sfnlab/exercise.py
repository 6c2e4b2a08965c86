"""The SolveIssue exercise's vocabulary: its files, its steps, and the names it deploys under.

Deploying, approving, grading, the template test and the notebooks all speak of the same
state machine, Lambdas and roles; they take the words from here, so one change renames
a thing everywhere.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sfnlab.settings import PROJECT_ROOT

DEFINITION_FILE = Path("definitions") / "SolveIssueStepFunction.json"
# The same workflow with two reviewers who must both approve, deployed beside SolveIssue.
TWO_REVIEWERS_FILE = Path("definitions") / "TwoReviewersStepFunction.json"
TWO_REVIEWERS_MACHINE = "SolveIssueTwoReviewers"
LAMBDAS_FOLDER = Path("lambdas")
TEMPLATE_FILE = PROJECT_ROOT / "template.yaml"  # the same, as an AWS SAM template
TEST_EVENTS = PROJECT_ROOT / "test-events"
INITIAL_EVENT = TEST_EVENTS / "initialEventTest.json"
APPROVE_EVENT = TEST_EVENTS / "approveTaskTest.json"
REJECT_EVENT = TEST_EVENTS / "rejectTaskTest.json"

STATE_MACHINE_NAME = "SolveIssue"
STACK_NAME = "sfnlab-solve-issue"  # `sfnlab deploy --stack`
DEFAULT_PREFIX = "sfnlab-"
DEFAULT_REVIEW_TIMEOUT = 24 * 3600  # seconds the reviewers have to decide
DEFAULT_REVIEW_HEARTBEAT = 3600  # seconds between heartbeats of a review in progress
# The most TimeoutSeconds and HeartbeatSeconds may say (template.yaml allows the same).
MAX_REVIEW_SECONDS = 99_999_999
REVIEWERS_CHANNEL = "reviewers"
OPS_CHANNEL = "ops"


@dataclass(frozen=True)
class Step:
    """One Lambda of the exercise: its placeholder in the definition, and its file."""

    key: str
    module: str
    description: str

    def function_name(self, prefix: str = DEFAULT_PREFIX) -> str:
        return prefix + self.module.replace("_", "-")

    @property
    def title(self) -> str:
        """`MergeToMaster` as a learner reads it: Merge To Master."""
        return re.sub(r"(?<!^)(?=[A-Z])", " ", self.key)


STEPS = [
    Step("CreateCode", "create_code", "Step 1: write the code that solves the issue"),
    Step("CreateBranch", "create_branch", "Step 2: put the code on a branch"),
    Step("NotifyReviewers", "notify_reviewers", "Step 3: ask for a review (task token)"),
    Step("MergeToMaster", "merge_to_master", "Step 4: merge the branch into master"),
    Step("CreateRelease", "create_release", "Step 5: cut a release"),
    Step("NotifyOps", "notify_ops", "Step 6: ask Ops to deploy the release"),
]
APPROVE = Step(
    "ApproveStepWithToken",
    "approve_step_with_token",
    "Manual: approve or reject a review with its task token",
)
# The page behind the links in the reviewers' message (API Gateway in front of it).
APPROVE_BY_LINK = Step(
    "ApproveByLink",
    "approve_by_link",
    "Approve or reject from a link: a page that asks, then a button",
)


@dataclass(frozen=True)
class Language:
    """A language the exercise's Lambdas are written in: how a step's handler file is
    named, what it defines, which runtime runs it, and where the kit keeps its own."""

    name: str  # as `--language` takes it
    title: str
    runtime: str
    suffixes: tuple[str, ...]  # a handler file's, the usual one first
    handler: str  # what each handler file defines (Python) or exports (JavaScript)
    kit_folder: Path  # the kit's own Lambdas in this language
    starter: Path  # the starter in this language
    camel_case: bool  # file names like createCode.js rather than create_code.py

    def stem(self, step: Step) -> str:
        """The name of `step`'s handler file, less its suffix: create_code, createCode."""
        if not self.camel_case:
            return step.module
        first, *rest = step.module.split("_")
        return first + "".join(word.capitalize() for word in rest)

    def file_name(self, step: Step) -> str:
        """`step`'s handler file, with the usual suffix: create_code.py, createCode.js."""
        return self.stem(step) + self.suffixes[0]

    def handler_setting(self, step: Step) -> str:
        """The function's Handler: create_code.lambda_handler, createCode.handler."""
        return f"{self.stem(step)}.{self.handler}"


PYTHON = Language(
    "python",
    "Python",
    "python3.12",
    (".py",),
    "lambda_handler",
    LAMBDAS_FOLDER,
    Path("starter"),
    camel_case=False,
)
# As the exercise's seed names them (approveStepWithToken.js); ES modules as .mjs, the
# file names AWS's Node.js runtime looks for.
JAVASCRIPT = Language(
    "javascript",
    "JavaScript",
    "nodejs20.x",
    (".js", ".mjs", ".cjs"),
    "handler",
    Path("lambdas-js"),
    Path("starter-js"),
    camel_case=True,
)
LANGUAGES = {language.name: language for language in (PYTHON, JAVASCRIPT)}
RUNTIME = PYTHON.runtime  # the kit's own Lambdas', unless told otherwise


def role_name(prefix: str, purpose: str) -> str:
    """The exercise's roles: `lambda` (the steps), `approve` (the approve Lambda), `states`."""
    return f"{prefix}{purpose}-role"


def kit_lambda_module(module: str) -> ModuleType:
    """A module of the kit's own `lambdas/` folder, for what the kit and a Lambda share
    (`token_refusals`: the words for a token that can decide nothing)."""
    path = PROJECT_ROOT / LAMBDAS_FOLDER / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"sfnlab_lambdas.{module}", path)
    assert spec is not None and spec.loader is not None, path
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded
