"""The stack's files: the template built with what it names, then packaged to S3.

What AWS's tools do before a deploy, for `sfnlab deploy --stack`:

- build: copy the template, the Lambdas' code and the definition into one folder, as
  `sam build` does (the kit's own template.yaml needs no build: `sam deploy` takes it as
  it is; a solution given with `--source` is built, its definition prepared for
  CloudFormation by `prepare_definition`);
- package: zip each function's `CodeUri` folder, upload it and the `DefinitionUri` file
  to S3 and point the template at them, as `aws cloudformation package` does.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from sfnlab.deploy.definition import load_template, placeholders
from sfnlab.deploy.functions import build_zip
from sfnlab.deploy.step_code import read_step_files
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import JAVASCRIPT, LAMBDAS_FOLDER, PYTHON, TEMPLATE_FILE
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client

# The definition's placeholders that stand for numbers (TimeoutSeconds, HeartbeatSeconds).
NUMERIC_PLACEHOLDERS = ("ReviewTimeoutSeconds", "ReviewHeartbeatSeconds")


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (`!Ref X`, `!GetAtt A.B`, `!Sub ...`)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_cloudformation_template(path: Path) -> dict:
    """A CloudFormation template (YAML or JSON) as a dict, short forms made long."""
    try:
        template = yaml.load(path.read_text(), Loader=_TemplateLoader)
    except OSError as e:
        raise LearnerError(f"Cannot read the template {path}: {e.strerror}.") from None
    except yaml.YAMLError as e:
        raise LearnerError(f"{path} is not a valid template: {e}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise LearnerError(f"{path} is not a CloudFormation template: it has no Resources.")
    return template


def prepare_definition(text: str, numeric: tuple[str, ...] = NUMERIC_PLACEHOLDERS) -> str:
    """The definition as CloudFormation must get it: numeric placeholders unquoted.

    CloudFormation fills DefinitionSubstitutions in as text, so `"${ReviewTimeoutSeconds}"`
    would reach Step Functions as the string "86400", which it refuses: TimeoutSeconds
    must be a number. The kit's own definition writes them bare already; a learner's may
    quote them (the kit's own deploy keeps the value's type either way), so here the
    quotes around these placeholders go.
    """
    for name in numeric:
        text = text.replace(f'"${{{name}}}"', f"${{{name}}}")
    return text


def _state_machine(template: dict) -> dict:
    """The properties of the template's one state machine, which must name its file."""
    machines = [
        resource.get("Properties") or {}
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::StateMachine"
    ]
    if len(machines) != 1 or not isinstance(machines[0].get("DefinitionUri"), str):
        raise LearnerError("The template must have one state machine with a DefinitionUri file.")
    return machines[0]


def build(
    build_dir: Path, source: Path = PROJECT_ROOT, template_file: Path = TEMPLATE_FILE
) -> Path:
    """Copy the template and the files it names, from `source`, into `build_dir`.

    The functions' `CodeUri` folders get their `.py` files (what `sfnlab deploy` zips);
    the state machine's `DefinitionUri` file is prepared for CloudFormation. Returns the
    built template's path.
    """
    template = load_cloudformation_template(template_file)
    refuse_javascript(source)
    machine = _state_machine(template)
    definition_path = source / machine["DefinitionUri"]
    definition = load_template(definition_path)  # clear errors for a file that is not JSON
    filled_in = set(machine.get("DefinitionSubstitutions") or {})
    unknown = placeholders(definition) - filled_in
    if unknown:
        raise DefinitionError(
            f"{definition_path} uses {', '.join('${' + n + '}' for n in sorted(unknown))}, "
            "which the template's DefinitionSubstitutions do not fill in.",
            hint=f"The template fills in: {', '.join(sorted(filled_in))}.",
        )
    code_folders = {
        resource["Properties"]["CodeUri"]
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
        and isinstance((resource.get("Properties") or {}).get("CodeUri"), str)
    }
    built_template = build_dir / "template.yaml"
    if build_dir.exists() and any(build_dir.iterdir()) and not built_template.exists():
        raise LearnerError(
            f"{build_dir} holds other files than a build: nothing was written there."
        )
    if build_dir.exists():
        shutil.rmtree(build_dir)  # the last build: nothing of it may linger
    build_dir.mkdir(parents=True)
    for folder in code_folders:
        files = sorted((source / folder).glob("*.py"))
        if not files:
            raise LearnerError(f"No Python files in {source / folder}: no Lambda code to deploy.")
        (build_dir / folder).mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copyfile(path, build_dir / folder / path.name)
    built_definition = build_dir / machine["DefinitionUri"]
    built_definition.parent.mkdir(parents=True, exist_ok=True)
    built_definition.write_text(prepare_definition(definition_path.read_text()))
    shutil.copyfile(template_file, built_template)
    return built_template


def refuse_javascript(source: Path) -> None:
    """template.yaml runs every step's function on Python: a step in JavaScript would be
    deployed with a handler its runtime cannot find."""
    steps = read_step_files(source / LAMBDAS_FOLDER).code.values()
    written = [code.file for code in steps if code.present and code.language is JAVASCRIPT]
    if written:
        raise LearnerError(
            f"template.yaml runs every step on {PYTHON.runtime}, and {source / LAMBDAS_FOLDER} "
            f"has steps in JavaScript ({', '.join(written)}).",
            hint=f"Deploy it without --stack: `sfnlab deploy --source {source}` gives each "
            f"step the runtime of its own file ({JAVASCRIPT.runtime} for JavaScript).",
        )


def artifact_bucket(settings: Settings) -> str:
    """The S3 bucket for the stack's code and definition (bucket names are global)."""
    return f"sfnlab-stack-{settings.account_id}-{settings.region}"


def ensure_bucket(settings: Settings, name: str) -> None:
    s3 = client("s3", settings)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        if settings.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": settings.region}
            )


def upload_artifact(settings: Settings, bucket: str, data: bytes, suffix: str) -> dict:
    """Upload `data` under its SHA-256 (once: the same bytes keep their key)."""
    s3 = client("s3", settings)
    key = f"{hashlib.sha256(data).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    return {"Bucket": bucket, "Key": key}


def package(settings: Settings, template_file: Path, bucket: str) -> dict:
    """The template with its local `CodeUri` folders and `DefinitionUri` file in S3.

    Folders are zipped, files uploaded as they are; paths are relative to the template.
    """
    template = load_cloudformation_template(template_file)
    base = template_file.parent
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            code = build_zip(base / properties["CodeUri"])
            properties["CodeUri"] = upload_artifact(settings, bucket, code, ".zip")
        elif kind == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            path = base / properties["DefinitionUri"]
            try:
                data = path.read_bytes()
            except OSError as e:
                raise LearnerError(f"Cannot read the definition {path}: {e.strerror}.") from None
            properties["DefinitionUri"] = upload_artifact(settings, bucket, data, ".json")
    return template
