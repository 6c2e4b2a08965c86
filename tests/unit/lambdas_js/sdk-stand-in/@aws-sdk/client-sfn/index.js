'use strict';
/**
 * A stand-in for `@aws-sdk/client-sfn` in the unit tests of the JavaScript Lambdas: the
 * same names, no network. Each command sent is recorded in `SFNClient.sent`; the next
 * `send` rejects with `SFNClient.refuseNext` when a test sets it (an error shaped as the
 * SDK's: `name` the error code, `$metadata`, `$fault`).
 */

class Command {
  constructor(input) {
    this.input = input;
  }
}

class SendTaskSuccessCommand extends Command {}
class SendTaskFailureCommand extends Command {}
class SendTaskHeartbeatCommand extends Command {}

class SFNClient {
  static sent = [];
  static refuseNext = null;

  constructor(config) {
    this.config = config;
  }

  async send(command) {
    SFNClient.sent.push({ command: command.constructor.name, input: command.input });
    const refusal = SFNClient.refuseNext;
    SFNClient.refuseNext = null;
    if (refusal) {
      throw refusal;
    }
    return { $metadata: { httpStatusCode: 200 } };
  }
}

/** An error as the SDK rejects with when Step Functions refuses a call. */
function serviceError(code, message) {
  return Object.assign(new Error(message), {
    name: code,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

module.exports = {
  SFNClient,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  serviceError,
};
