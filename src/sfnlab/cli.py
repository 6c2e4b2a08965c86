"""The `sfnlab` command: thin wrappers over the library functions of the same names."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click
from botocore.exceptions import EndpointConnectionError
from rich.table import Table

from sfnlab import lifecycle
from sfnlab.config import load_settings
from sfnlab.errors import KitError
from sfnlab.progress import console


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show the kit's errors as one paragraph and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KitError as e:
            console.print(f"[bold red]Error:[/bold red] {e}")
            sys.exit(1)
        except EndpointConnectionError:
            endpoint = load_settings().endpoint
            console.print(
                f"[bold red]Error:[/bold red] LocalStack is not reachable at {endpoint}. "
                "Start it with `sfnlab up` (or `docker compose up -d`), then try again."
            )
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="sfn-approval-lab")
def main() -> None:
    """sfn-approval-lab: learn the Step Functions callback pattern on LocalStack.

    The endpoint comes from SFNLAB_ENDPOINT (default http://127.0.0.1:4566); the kit's
    files live in .sfnlab/ inside the project.
    """


@main.command()
@friendly_errors
def up() -> None:
    """Make sure LocalStack runs: use the one at the endpoint, or start the embedded one.

    The embedded LocalStack needs Python 3.12 or newer; its virtualenv is created on
    first use. Running `up` again while it runs changes nothing.
    """
    result = lifecycle.up()
    click.echo(result.describe())


@main.command()
@friendly_errors
def down() -> None:
    """Stop the embedded LocalStack and every Lambda process it started."""
    click.echo(lifecycle.down().message)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@friendly_errors
def status(as_json: bool) -> None:
    """Show the endpoint, LocalStack's version, the mode and the Lambda executor."""
    result = lifecycle.status()
    if as_json:
        click.echo(
            json.dumps({k: str(v) if v is not None else None for k, v in vars(result).items()})
        )
        return
    table = Table(show_header=False, box=None)
    table.add_row("endpoint", result.endpoint)
    table.add_row("running", "yes" if result.running else "no")
    if result.running:
        table.add_row("version", result.version or "")
        table.add_row("mode", result.mode or "")
        table.add_row("lambda executor", result.lambda_executor or "")
        if result.pid:
            table.add_row("pid", str(result.pid))
        if result.log_file:
            table.add_row("log", str(result.log_file))
    console.print(table)
    if not result.running:
        sys.exit(3)


@main.command()
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines to show.")
@friendly_errors
def logs(lines: int) -> None:
    """Show the end of the embedded LocalStack's log."""
    click.echo(lifecycle.logs(lines=lines))


@main.command()
@friendly_errors
def smoke() -> None:
    """Deploy a hello-world Lambda and invoke it: proves LocalStack runs Lambdas."""
    from sfnlab.smoke import smoke as run_smoke

    result = run_smoke()
    click.echo(json.dumps(result.payload, indent=2))
    click.echo(result.log_tail)
    click.echo(f"Invoked in {result.invoke_ms:.0f} ms.")
