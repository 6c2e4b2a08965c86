"""The checks before anything runs, shared by `sfnlab submit` and the grader: what the
grader could not run is a problem, what would cost points a warning."""

from __future__ import annotations

import os

import pytest

from sfnlab.grading.solution_files import MAX_FILE_BYTES, MAX_FILES, check, handler_files


def test_the_kits_own_solution_passes_every_check(solution):
    findings = check(solution)
    assert findings.problems == [] and findings.warnings == []
    # The definition and every Python file of lambdas/ (handlers and the helpers they share)
    assert len(findings.files) == 1 + len(list((solution / "lambdas").glob("*.py")))


def test_the_starter_says_what_is_missing_in_plain_words(starter):
    findings = check(starter)
    assert findings.problems == [
        "Step Functions would refuse definitions/SolveIssueStepFunction.json: CreateCode: "
        "Next names 'TODO_CreateBranch', which is not a state"
    ]
    missing = [w for w in findings.warnings if "no state of the definition invokes" in w]
    assert [w.split(" invokes the ")[1].split(" Lambda")[0] for w in missing] == [
        "Create Branch",
        "Notify Reviewers",
        "Merge To Master",
        "Create Release",
        "Notify Ops",
    ]


def test_each_missing_file_of_the_contract_is_named(solution):
    (solution / "lambdas" / "notify_ops.py").unlink()
    (solution / "definitions" / "SolveIssueStepFunction.json").unlink()
    assert check(solution).problems == [
        "definitions/SolveIssueStepFunction.json is missing",
        "lambdas/notify_ops.py is missing",
    ]


def test_an_empty_folder_misses_everything(tmp_path):
    findings = check(tmp_path)
    assert len(findings.problems) == 1 + len(handler_files())
    assert findings.files == []


def test_a_folder_that_is_not_there(tmp_path):
    assert check(tmp_path / "nowhere").problems == [f"there is no folder {tmp_path / 'nowhere'}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"StartAt": "A" "States": {}}', "is not valid JSON: Expecting ',' delimiter"),
        ("[1, 2]", "holds JSON, but not a JSON object"),
        ('{"X": "${SomethingElse}"}', "uses ${SomethingElse}, which deploy does not fill in"),
    ],
)
def test_a_definition_that_does_not_parse_is_a_problem(solution, text, expected):
    (solution / "definitions" / "SolveIssueStepFunction.json").write_text(text)
    [problem] = check(solution).problems
    assert expected in problem


def test_a_definition_saved_as_utf16_is_a_problem(solution):
    path = solution / "definitions" / "SolveIssueStepFunction.json"
    path.write_bytes(path.read_text().encode("utf-16"))
    [problem] = check(solution).problems
    assert "is not UTF-8 text" in problem


def test_a_link_out_of_the_folder_is_refused_and_nothing_more_is_read(solution, tmp_path):
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = x")
    os.symlink(secret, solution / "lambdas" / "stolen.py")
    findings = check(solution)
    assert findings.problems == [
        "lambdas/stolen.py is a link to a file outside the solution; the grader reads only "
        "the solution's own files (copy the file in instead)"
    ]


def test_a_lambdas_folder_that_links_elsewhere_is_refused(solution, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (solution / "lambdas").rename(elsewhere)
    os.symlink(elsewhere, solution / "lambdas")
    assert "is a link to a file outside the solution" in check(solution).problems[0]


def test_a_link_inside_the_folder_is_fine(solution):
    os.symlink("create_code.py", solution / "lambdas" / "create_code_again.py")
    assert check(solution).problems == []


def test_a_file_too_large_is_refused_before_it_is_read(solution):
    with (solution / "lambdas" / "huge.py").open("wb") as huge:
        huge.truncate(MAX_FILE_BYTES + 1)
    [problem] = check(solution).problems
    assert problem == "lambdas/huge.py is 1.0 MB; a file of a solution may be at most 1.0 MB"


def test_too_many_files_are_refused(solution):
    files = len(check(solution).files)
    for number in range(MAX_FILES):
        (solution / "lambdas" / f"helper_{number}.py").write_text("")
    [problem] = check(solution).problems
    assert problem.startswith(f"the solution has {MAX_FILES + files} files")


def test_a_handler_that_does_not_compile_or_has_no_handler_costs_points(solution):
    (solution / "lambdas" / "notify_ops.py").write_text("def lambda_handler(event, context)\n")
    (solution / "lambdas" / "create_code.py").write_text("def handler(event, context):\n    pass\n")
    findings = check(solution)
    assert findings.problems == []
    assert findings.warnings == [
        "lambdas/create_code.py: it defines no lambda_handler, the function each Lambda's "
        "handler setting names",
        "lambdas/notify_ops.py: it does not compile: expected ':' (line 1)",
    ]


def test_a_handler_imported_from_a_helper_counts(solution):
    (solution / "lambdas" / "tools.py").write_text("def lambda_handler(e, c):\n    return e\n")
    (solution / "lambdas" / "create_code.py").write_text("from tools import lambda_handler\n")
    assert check(solution).warnings == []


def test_other_files_are_left_out_and_named(solution):
    (solution / "README.md").write_text("notes")
    (solution / ".git").mkdir()
    (solution / ".git" / "HEAD").write_text("ref")
    left_out = [str(path) for path in check(solution).left_out]
    assert left_out == [
        "README.md",
        "definitions/SolveIssueStepFunctionJSONata.json",
        "definitions/TwoReviewersStepFunction.json",
    ]
