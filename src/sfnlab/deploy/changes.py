"""What a deploy did to each resource: created, updated, deleted or left unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    kind: str  # role, policy, function, state machine
    name: str
    action: str  # created, updated, deleted, unchanged

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"
