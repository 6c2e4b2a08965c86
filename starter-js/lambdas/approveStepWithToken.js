'use strict';
/**
 * The manual step: a reviewer approves or rejects, handing back the task token.
 *
 * TODO: Read `token` and `approve` from the event and send the decision to Step Functions
 * with the AWS SDK for JavaScript (it comes with the Node.js runtime):
 * `await new SFNClient({}).send(new SendTaskSuccessCommand({ taskToken: ..., output: ... }))`,
 * the output a JSON string. The state machine's Choice then decides: merge, or end in a
 * Fail state.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { SFNClient, SendTaskSuccessCommand } = require('@aws-sdk/client-sfn');

exports.handler = async (event, context) => {
  throw new Error('TODO: write approveStepWithToken.handler');
};
