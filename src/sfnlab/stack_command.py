"""`sfnlab deploy --stack`: what it prints, over `sfnlab.stack` (kept out of cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from sfnlab.config import Settings
from sfnlab.progress import console, step
from sfnlab.stack import deploy_stack
from sfnlab.stack_package import build

KIND_ORDER = ["stack", "role", "function", "log group", "state machine", "bucket"]


def shown(path: Path) -> str:
    """`path` relative to where the command runs, when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def order(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def deploy_stack_command(
    settings: Settings,
    source: Path,
    stack_name: str,
    review_timeout: int,
    review_heartbeat: int,
    build_only: bool,
) -> None:
    if build_only:
        template = build(settings.home / "stack", source)
        click.echo(f"Built {shown(template)} with the code and the definition it names.")
        click.echo(f"On AWS: sam deploy --guided --template-file {shown(template)}")
        return
    with step(f"Deploying the stack {stack_name} from template.yaml"):
        result = deploy_stack(
            settings,
            source=source,
            stack_name=stack_name,
            review_timeout=review_timeout,
            review_heartbeat=review_heartbeat or None,
        )
    table = Table("resource", "name", "done", box=None)
    for change in sorted(result.changes, key=lambda c: (order(c.kind), c.name)):
        table.add_row(change.kind, change.name, change.action)
    console.print(table)
    click.echo(
        f"Stack {result.stack_name} {result.action}, {len(result.changed)} changed. "
        f"State machine: {result.state_machine_arn}"
    )
    click.echo(f"Approve function: {result.approve_function}")
    click.echo(f"What CloudFormation got: {shown(result.build_dir / 'packaged.json')}")
