from __future__ import annotations

import pytest

from sfnlab.deploy import deploy


@pytest.fixture(scope="session")
def deployment(localstack):
    """The kit's own SolveIssue, deployed once into the session's LocalStack."""
    return deploy(localstack)
