"""On LocalStack's image the patches load from a mounted folder, with no licence.

LocalStack runs the Python files of /etc/localstack/init/start.d inside its own process
when it starts (a feature of its free image, like the ready.d hook the kit already
uses); docker-compose.yml mounts docker/localstack/start.d there and localstack-patches/
beside it. Docker is not available here, so this runs the same start stage with
LocalStack's own init-script machinery, in the embedded LocalStack's Python started
without its site hooks: the patches package is then importable only through the script.
"""

from __future__ import annotations

import json
import subprocess
import textwrap

from ruamel.yaml import YAML

from sfnlab.localstack.install import venv_python
from sfnlab.settings import PROJECT_ROOT, load_settings

START_SCRIPTS = PROJECT_ROOT / "docker" / "localstack" / "start.d"
PATCHES_MOUNT = "/opt/sfnlab/localstack-patches"

DRIVER = textwrap.dedent(
    """
    import importlib, json, sys

    sys.path.append(sys.argv[2])  # the virtualenv's site-packages, without its .pth files
    try:
        import localstack_sfnlab_patches
        sys.exit("the patches are importable without the start script")
    except ImportError:
        pass

    from localstack.runtime.init import InitScriptManager, Stage
    from localstack.utils.patch import Patch

    scripts = InitScriptManager(script_root=sys.argv[1]).run_stage(Stage.START)
    importlib.import_module("localstack.services.stepfunctions.provider")
    importlib.import_module("localstack.runtime.server.twisted")
    importlib.import_module("localstack.services.iam.provider")
    patched = sorted({f"{getattr(p.obj, '__name__', '')}.{p.name}" for p in Patch.applied_patches})
    print(json.dumps({"scripts": [s.state.name for s in scripts], "patched": patched}))
    """
)


def test_compose_mounts_the_start_script_and_the_patches():
    compose = YAML(typ="safe").load((PROJECT_ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["localstack"]["volumes"]
    pairs = (volume.split(":", 1) for volume in volumes)
    mounts = {target.removesuffix(":ro"): source for source, target in pairs}
    assert (PROJECT_ROOT / mounts["/etc/localstack/init/start.d"]).resolve() == START_SCRIPTS
    assert (PROJECT_ROOT / mounts[PATCHES_MOUNT]).resolve() == PROJECT_ROOT / "localstack-patches"
    assert f"{PATCHES_MOUNT}/src" in (START_SCRIPTS / "sfnlab-patches.py").read_text()


def test_the_start_script_applies_every_patch_from_the_mounted_folder(lambda_interpreter, tmp_path):
    root = tmp_path / "init"
    root.mkdir()
    (root / "start.d").symlink_to(START_SCRIPTS)
    environment = {
        "SFNLAB_PATCHES_SOURCE": str(PROJECT_ROOT / "localstack-patches" / "src"),
        "HOME": str(tmp_path),  # plux keeps its entry-point cache under ~/.cache
        "PATH": "/usr/bin:/bin",
    }
    venv = load_settings().runtime_venv
    site_packages = next(venv.glob("lib/python3.*/site-packages"))
    result = subprocess.run(
        [str(venv_python(venv)), "-S", "-c", DRIVER, str(root), str(site_packages)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["scripts"] == ["SUCCESSFUL"]
    assert {
        "TwistedRuntimeServer.register",
        "CallbackPoolManager.notify",
        "Environment.set_stop",
        "CallbackEndpoint.notify_heartbeat",
        "CallbackEndpoint.setup_heartbeat_endpoint",
        "StepFunctionsProvider._validate_definition",
        "StepFunctionsProvider.send_task_failure",
        "localstack.services.stepfunctions.asl.utils.json_path.parse",
        "localstack.services.stepfunctions.asl.component.common.path.result_path.parse",
        "IAMBackend._init_aws_policies",
        "AmazonStateLanguageParser.parse",
        "ClientFactory.with_assumed_role",
    } <= set(report["patched"])
