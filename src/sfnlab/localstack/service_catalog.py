"""LocalStack's service catalog, built once for the installed runtime, not at every start.

On its first request LocalStack indexes every AWS API it knows (a few hundred
specifications) to tell which service a request is for: about 5 s of CPU. Its Docker
image ships that index prebuilt in its "static libs" folder, where LocalStack looks first;
in host mode, a new state folder builds it again, and the test suite and the grader start
LocalStack with a new state folder every time. So the kit builds it once with LocalStack's
own tool (`python -m localstack.aws.spec`), beside the runtime's virtualenv, and links it
into each state folder's static libs. Its file name carries LocalStack's and botocore's
versions, so LocalStack only ever reads the index of the versions it runs; if building
fails, nothing is linked and LocalStack builds it itself, as before.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from sfnlab.settings import Settings

LOG = logging.getLogger(__name__)

FOLDER = "service-catalog"  # in the runtime's virtualenv
PATTERN = "service-catalog-*.dill"
STATIC_LIBS = Path("usr", "lib", "localstack")  # under LocalStack's FILESYSTEM_ROOT
BUILD_TIMEOUT = 300.0


def built(settings: Settings, python: Path) -> list[Path]:
    """The runtime's catalog files, built now if there are none yet."""
    folder = settings.runtime_venv / FOLDER
    found = sorted(folder.glob(PATTERN))
    if found:
        return found
    # Built in a folder of its own and moved in whole: two builds at once do no harm.
    with tempfile.TemporaryDirectory(dir=settings.runtime_venv, prefix=".catalog-") as root:
        (Path(root) / STATIC_LIBS).mkdir(parents=True)
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": root,
            "FILESYSTEM_ROOT": root,
            "OVERRIDE_IN_DOCKER": "0",
        }
        try:
            subprocess.run(
                [str(python), "-m", "localstack.aws.spec"],
                env=environment,
                cwd=root,
                capture_output=True,
                timeout=BUILD_TIMEOUT,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as e:
            LOG.debug("LocalStack's service catalog could not be built: %s", e)
            return []
        folder.mkdir(exist_ok=True)
        for file in (Path(root) / STATIC_LIBS).glob(PATTERN):
            os.replace(file, folder / file.name)
    return sorted(folder.glob(PATTERN))


def link(settings: Settings, python: Path) -> None:
    """Put the catalog where the embedded LocalStack of `settings` looks for it first."""
    static_libs = settings.state_dir / "filesystem" / STATIC_LIBS
    for file in built(settings, python):
        static_libs.mkdir(parents=True, exist_ok=True)
        target = static_libs / file.name
        if not target.exists():
            target.symlink_to(file)
