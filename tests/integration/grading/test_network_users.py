"""`sfnlab grade` run as somebody else: a user without privileges, where the system allows
user namespaces (a network of its own all the same), and root in a locked-down container,
where no namespace can be made (said once; grading goes on).

Both need root to become somebody else, so they run only as root. The user is a
throwaway user id that no account has. The interpreters this kit runs on may live in a
folder only root may enter (root's home): the grading then runs in a private mount
namespace where just those folders are made reachable; nothing else changes."""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfnlab.localstack.install import recorded_install
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings
from sfnlab.testing.submissions import CLASSMATE, assemble, load_all
from tests.integration.grading.conftest import Canary, KitState, knock_targets

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root"),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("unshare", "setpriv", "nsenter", "bwrap")),
        reason="needs util-linux's unshare, setpriv and nsenter, and bubblewrap",
    ),
]

HOSTILE = "scans-the-machine"
SFNLAB = Path(os.environ.get("VIRTUAL_ENV") or PROJECT_ROOT / ".sfnlab" / "venv") / "bin" / "sfnlab"
TIMEOUT = 600


def throwaway_uid() -> int:
    """A user id no account has."""
    for uid in range(43210, 44210):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise AssertionError("no free user id")


def closed_folder(path: Path) -> tuple[Path, Path] | None:
    """(the first folder on the way to `path` that other users may not enter, the folder
    just below it on the way), or None when others reach `path`."""
    parts = path.resolve().parts
    for depth in range(1, len(parts) - 1):
        folder = Path(*parts[:depth])
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder, Path(*parts[: depth + 1])
    return None


def reach_interpreters_script(interpreters: list[Path], stash: Path) -> str:
    """Shell lines that make the interpreters reachable to any user: in this mount
    namespace, a folder closed to others is replaced by an open one holding only the
    folders below it that lead to them."""
    opened: dict[Path, list[Path]] = {}
    for interpreter in interpreters:
        found = closed_folder(interpreter)
        if found and found[1] not in opened.setdefault(found[0], []):
            opened[found[0]].append(found[1])
    lines = []
    inners = [inner for below in opened.values() for inner in below]
    keep = [(inner, stash / str(number)) for number, inner in enumerate(inners)]
    for inner, kept in keep:
        lines.append(f"mkdir -p {kept} && mount --bind {shlex.quote(str(inner))} {kept}")
    for closed in opened:
        lines.append(f"mount -t tmpfs -o mode=0755 none {shlex.quote(str(closed))}")
    for inner, kept in keep:
        lines.append(f"mkdir -p {shlex.quote(str(inner))} && mount --bind {kept} {inner}")
    return "\n".join(lines)


def interpreters() -> list[Path]:
    settings = load_settings()
    record = recorded_install(settings.runtime_venv)
    assert record is not None, "the grading LocalStack's virtualenv exists (other tests made it)"
    return [Path(os.path.realpath(SFNLAB.parent / "python")), Path(record[0].path)]


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder the throwaway user may read and write (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-other-user-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def solutions(folder: Path, targets: list[str]) -> list[Path]:
    submissions = {s.name: s for s in load_all()}
    placeholders = {"@@TARGETS@@": " ".join(targets)}
    made = [assemble(submissions[name], folder, placeholders) for name in (CLASSMATE, HOSTILE)]
    for path in folder.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o644)
    return made


def environment(folder: Path, **extra: str) -> dict[str, str]:
    home = folder / "home"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    settings = load_settings()
    return {
        "PATH": f"{SFNLAB.parent}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "TMPDIR": str(folder),
        "LANG": "C.UTF-8",
        "PROCESS_EXECUTOR_PYTHON_DIRS": str(settings.runtime_venv / "bin"),
        "COLUMNS": "200",
        **extra,
    }


def grade_as(
    wrapper: list[str], arguments: list[str], folder: Path, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*wrapper, str(SFNLAB), "grade", "--jobs", "2", *arguments],
        env=environment(folder, **extra),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def report(folder: Path, name: str) -> dict:
    return json.loads((folder / "reports" / f"{name}.json").read_text())


def test_a_user_without_privileges_grades_in_a_network_of_its_own(
    shared_folder, localstack: Settings
):
    """Where user namespaces are allowed, bubblewrap makes the network inside one: the
    hostile scan reaches nothing of the machine, and the classmate scores 100."""
    uid = throwaway_uid()
    user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    allowed = subprocess.run([*user, "unshare", "--user", "--net", "true"], capture_output=True)
    if allowed.returncode != 0:
        pytest.skip(f"this system allows user namespaces to root only: {allowed.stderr!r}")
    canary = Canary()
    targets = knock_targets(canary, localstack)
    classmate, hostile = solutions(shared_folder, targets)
    become = f'exec {shlex.join(user)} --inh-caps=-all --bounding-set=-all "$@"'
    script = reach_interpreters_script(interpreters(), shared_folder / "interpreters") + "\n"
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script + become, "sh"]
    kit_before = KitState.of(localstack)
    result = grade_as(
        wrapper,
        [str(classmate), str(hostile), "--report-dir", str(shared_folder / "reports")],
        shared_folder,
    )
    canary.close()
    said = result.stdout + result.stderr
    assert result.returncode == 1, said  # the hostile submission misses points
    assert "Giving the grading stack a network of its own" in result.stderr, said
    assert report(shared_folder, CLASSMATE)["score"] == 100, said
    feedback = {r["id"]: r["feedback"] for r in report(shared_folder, HOSTILE)["requirements"]}
    for target in targets:
        assert target in feedback["reaches_review"]
    assert "attack blocked" in feedback["reaches_review"]
    assert canary.connections == [] and canary.requests == []
    assert KitState.of(localstack) == kit_before
    assert {path.stat().st_uid for path in (shared_folder / "reports").iterdir()} == {uid}


LOCKED_DOWN = (
    # Root of a user namespace of its own, as in an unprivileged container: no more user
    # namespaces from here, and no capabilities left to make any other kind.
    "echo 0 > /proc/sys/user/max_user_namespaces\n"
    'exec setpriv --inh-caps=-all --bounding-set=-all "$@"'
)


def test_a_locked_down_container_grades_on_its_own_network_and_says_so_once(
    shared_folder, localstack: Settings
):
    """Where no namespace can be made (here: root without capabilities, as in a grading
    platform's container, where the container is the sandbox), `sfnlab grade --no-sandbox`
    says once, plainly, that learners' code shares the network, and grades as before."""
    classmate, _ = solutions(shared_folder, [])
    wrapper = ["unshare", "--user", "--map-root-user", "sh", "-ec", LOCKED_DOWN, "sh"]
    arguments = ["--no-sandbox", str(classmate), "--report-dir", str(shared_folder / "reports")]
    result = grade_as(wrapper, arguments, shared_folder)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    note = "A network of its own for grading is not available here (bubblewrap: "
    assert result.stderr.count(note) == 1, said
    assert "Operation not permitted" in result.stderr
    assert report(shared_folder, CLASSMATE)["score"] == 100

    required = grade_as(wrapper, arguments, shared_folder, SFNLAB_GRADING_NETWORK="isolated")
    assert required.returncode == 1, required.stderr
    assert "SFNLAB_GRADING_NETWORK=isolated" in required.stderr
    assert "Traceback" not in required.stderr
