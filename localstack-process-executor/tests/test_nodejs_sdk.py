"""The AWS SDK for JavaScript v3 is there for Node.js functions, as on AWS's Node.js 18+
runtimes, and talks to LocalStack as boto3 does for Python functions: no endpoint in the
code, the credentials LocalStack gives the function."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from sfnlab.support.polling import poll
from sfnlab.testing.functions import invoke

LIST_MACHINES_CJS = """
const { SFNClient, ListStateMachinesCommand } = require('@aws-sdk/client-sfn');
const sfn = new SFNClient({});
exports.handler = async () => {
  const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
  return stateMachines.map((machine) => machine.name);
};
"""
LIST_MACHINES_ESM = """
import { SFNClient, ListStateMachinesCommand } from '@aws-sdk/client-sfn';
const sfn = new SFNClient({});
export const handler = async () => {
  const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
  return stateMachines.map((machine) => machine.name);
};
"""
ROLE = "arn:aws:iam::000000000000:role/sdk-test"


@pytest.fixture
def state_machine(sfn_client):
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = sfn_client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    yield name
    sfn_client.delete_state_machine(stateMachineArn=arn)


@pytest.mark.parametrize(
    "files",
    [{"index.js": LIST_MACHINES_CJS}, {"index.mjs": LIST_MACHINES_ESM}],
    ids=["require", "import"],
)
def test_the_sdk_calls_localstack_without_being_told_where_it_is(
    lambda_client, create_node_function, state_machine, files
):
    name = create_node_function(files=files)
    response = invoke(lambda_client, name)
    assert "FunctionError" not in response, response["Payload"]
    assert state_machine in response["Payload"]


def test_the_lambda_client_is_there_too(lambda_client, create_node_function):
    name = create_node_function(
        """
        const { LambdaClient, GetFunctionCommand } = require('@aws-sdk/client-lambda');
        exports.handler = async (event, context) => {
          const me = await new LambdaClient({}).send(
            new GetFunctionCommand({ FunctionName: context.functionName }));
          return me.Configuration.Runtime;
        };
        """
    )
    assert invoke(lambda_client, name)["Payload"] == "nodejs20.x"


def test_a_task_token_is_sent_back_with_the_sdk(sfn_client, create_node_function):
    """The exercise's approve step in JavaScript: a task waits for its token, which the
    function it invokes sends back with SendTaskSuccess."""
    name = create_node_function(
        """
        const { SFNClient, SendTaskSuccessCommand } = require('@aws-sdk/client-sfn');
        exports.handler = async (event) => {
          await new SFNClient({}).send(new SendTaskSuccessCommand({
            taskToken: event.token, output: JSON.stringify({ approved: true }) }));
        };
        """
    )
    ask = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": name, "Payload": {"token.$": "$$.Task.Token"}},
        "End": True,
    }
    machine = sfn_client.create_state_machine(
        name=f"token-{uuid.uuid4().hex[:8]}",
        roleArn=ROLE,
        definition=json.dumps({"StartAt": "Ask", "States": {"Ask": ask}}),
    )["stateMachineArn"]
    try:
        execution = sfn_client.start_execution(stateMachineArn=machine)["executionArn"]
        assert poll(
            lambda: sfn_client.describe_execution(executionArn=execution)["status"] != "RUNNING",
            30,
            max_delay=0.1,
        )
        described = sfn_client.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"]) == {"approved": True}
    finally:
        sfn_client.delete_state_machine(stateMachineArn=machine)


def test_the_functions_own_copy_of_a_package_comes_first(lambda_client, create_node_function):
    name = create_node_function(
        files={
            "node_modules/@aws-sdk/client-sfn/package.json": '{"name": "@aws-sdk/client-sfn"}',
            "node_modules/@aws-sdk/client-sfn/index.js": "exports.mine = true;",
            "index.js": "exports.handler = async () => require('@aws-sdk/client-sfn').mine;",
        }
    )
    assert invoke(lambda_client, name)["Payload"] is True


def test_a_package_aws_does_not_give_is_missing_here_too(
    localstack, lambda_client, create_node_function
):
    """Not in the SDK nor in the function: not found, even when a node_modules folder above
    LocalStack's own folders (a learner's project) has it."""
    above = localstack.state_dir / "node_modules" / "left-pad"
    above.mkdir(parents=True)
    (above / "index.js").write_text("module.exports = 'leaked';")
    try:
        name = create_node_function(
            "const pad = require('left-pad');\nexports.handler = async () => pad;"
        )
        error = invoke(lambda_client, name)["Payload"]
    finally:
        shutil.rmtree(above.parent)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module 'left-pad'" in error["errorMessage"]
