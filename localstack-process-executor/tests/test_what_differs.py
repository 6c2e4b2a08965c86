"""What the process executor does not do as AWS does, as the READMEs list it.

Each test pins one listed difference, so that the lists stay true: a change that closes a
gap fails its test, and the README is updated with it.
"""

from __future__ import annotations

import base64
import json
import shutil
import uuid

import pytest

from sfnlab.support.polling import poll
from sfnlab.testing.functions import invoke, zip_files

ROLE = "arn:aws:iam::000000000000:role/differences"


def settled(lambda_client, name: str) -> dict:
    poll(
        lambda: lambda_client.get_function_configuration(FunctionName=name)["State"] != "Pending",
        30,
        max_delay=0.1,
    )
    return lambda_client.get_function_configuration(FunctionName=name)


@pytest.fixture
def names(lambda_client):
    created: list[str] = []
    yield lambda name: created.append(name) or name
    for name in created:
        lambda_client.delete_function(FunctionName=name)


def test_container_images_do_not_run(lambda_client, names):
    name = names(f"image-{uuid.uuid4().hex[:8]}")
    lambda_client.create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"},
        Role=ROLE,
    )
    config = settled(lambda_client, name)
    assert config["State"] == "Failed"
    assert "container images need Docker" in config["StateReason"]


@pytest.mark.parametrize(
    ("runtime", "reason"),
    [
        ("java21", "Python (python3.x) and Node.js (nodejsN.x) runtimes only"),
        ("provided.al2023", "Python (python3.x) and Node.js (nodejsN.x) runtimes only"),
        # Its runtime gave the AWS SDK v2, which is not given here.
        ("nodejs16.x", "runs nodejs18.x and newer (with the AWS SDK for JavaScript v3)"),
    ],
)
def test_only_python_and_nodejs_runtimes_run(lambda_client, names, runtime, reason):
    name = names(f"runtime-{uuid.uuid4().hex[:8]}")
    lambda_client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": zip_files({"index.js": "exports.handler = async () => 1;"})},
    )
    config = settled(lambda_client, name)
    assert config["State"] == "Failed"
    assert reason in config["StateReason"]


def test_layers_are_not_on_the_path(lambda_client, create_function):
    """AWS unpacks a function's layers under /opt (python/ on sys.path); here they are not."""
    layer = lambda_client.publish_layer_version(
        LayerName=f"shared-{uuid.uuid4().hex[:8]}",
        Content={"ZipFile": zip_files({"python/shared_code.py": "VALUE = 42\n"})},
        CompatibleRuntimes=["python3.12", "python3.13"],
    )
    name = create_function(
        "def handler(event, context):\n    import shared_code\n    return shared_code.VALUE\n"
    )
    lambda_client.update_function_configuration(
        FunctionName=name, Layers=[layer["LayerVersionArn"]]
    )
    poll(
        lambda: (
            lambda_client.get_function_configuration(FunctionName=name)["LastUpdateStatus"]
            != "InProgress"
        ),
        30,
        max_delay=0.1,
    )
    error = invoke(lambda_client, name)["Payload"]
    assert error["errorType"] == "ModuleNotFoundError"


def test_memory_size_is_not_a_limit(lambda_client, create_function):
    """AWS stops a function that goes over its MemorySize (Runtime.OutOfMemory); here the
    process may use what the machine has."""
    name = create_function(
        "def handler(event, context):\n"
        "    block = bytearray(200 * 1024 * 1024)\n"
        "    return len(block)\n"
    )
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128
    assert invoke(lambda_client, name)["Payload"] == 200 * 1024 * 1024


def test_an_es_module_may_import_a_package_from_above_localstacks_folders(
    localstack, lambda_client, create_node_function
):
    """On AWS nothing above /var/task holds packages. Here require() is kept inside the
    function's folder, but an ES module `import` of a package neither the function nor the
    SDK has still finds one in a node_modules folder above LocalStack's state folder."""
    above = localstack.state_dir / "node_modules" / "left-pad"
    above.mkdir(parents=True)
    (above / "index.js").write_text("module.exports = 'found above';")
    try:
        name = create_node_function(
            files={
                "index.mjs": "import pad from 'left-pad';\nexport const handler = async () => pad;"
            }
        )
        assert invoke(lambda_client, name)["Payload"] == "found above"
    finally:
        shutil.rmtree(above.parent)


def test_response_streaming_is_one_buffered_response(lambda_client, create_node_function):
    """AWS streams what a `streamifyResponse` handler writes (InvokeWithResponseStream, function
    URLs); LocalStack 4.14 has no streaming: Invoke returns what it wrote, once it ended, and
    the HTTP metadata given to `HttpResponseStream.from` is dropped."""
    name = create_node_function(
        """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 });
          responseStream.write('Hello,');
          responseStream.write(' world!');
          responseStream.end();
        });
        """
    )
    response = lambda_client.invoke(FunctionName=name)
    assert response["Payload"].read() == b"Hello, world!"


def test_a_runtime_wrapper_script_is_not_run(lambda_client, create_node_function):
    """AWS runs AWS_LAMBDA_EXEC_WRAPPER in front of the runtime; here it is ignored."""
    name = create_node_function(
        files={
            "wrapper.sh": '#!/bin/sh\nexport WRAPPED=yes\nexec "$@"\n',
            "index.js": "exports.handler = async () => process.env.WRAPPED ?? 'not wrapped';",
        },
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"},
    )
    assert invoke(lambda_client, name)["Payload"] == "not wrapped"


def test_the_client_context_does_not_reach_the_function(lambda_client, create_node_function):
    """LocalStack 4.14 passes an invocation's ClientContext to no executor."""
    name = create_node_function(
        "exports.handler = async (event, context) => context.clientContext ?? 'none';"
    )
    custom = base64.b64encode(json.dumps({"custom": {"foo": "bar"}}).encode()).decode()
    response = lambda_client.invoke(FunctionName=name, ClientContext=custom)
    assert json.loads(response["Payload"].read()) == "none"
