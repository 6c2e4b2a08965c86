'use strict';
/**
 * The manual step: a reviewer approves or rejects, handing back the task token.
 *
 * Invoke it yourself (see test-events/approveTaskTest.json and rejectTaskTest.json):
 *   {"token": "<task token>", "approve": true, "reviewer": "bob", "comment": "Looks good"}
 * It sends the decision to Step Functions with SendTaskSuccess; the state machine's Choice
 * then merges (approved) or ends in its Fail state (rejected). It returns the event it got,
 * with the `decision` it sent. With "heartbeat": true instead of "approve", it only tells
 * Step Functions the review is still going on.
 *
 * `approve` is JSON `true` or `false`; anything else ("yes", 1, "true") is refused
 * (DecisionInvalid), quoting what was given. When Step Functions refuses, the error says
 * what happened and what to do: TokenNotWaiting (the review is over: token already used,
 * review timed out, execution stopped or ended), TokenUnknown (a token Step Functions never
 * issued), TokenMalformed, CommentTooLong.
 *
 * The AWS SDK for JavaScript v3 comes with the Node.js runtime, as on AWS. Its role may
 * call states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat only.
 */

const {
  SFNClient,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
} = require('@aws-sdk/client-sfn');

// Created once per execution environment and reused by later invocations.
const stepFunctions = new SFNClient({});

const TOKEN_PLACEHOLDER_MARKS = ['<', '>', 'paste', ' '];
// The most a task's result may hold, in UTF-8 bytes (SendTaskSuccess `output`).
const MAX_DECISION_BYTES = 262144;

class TokenMissing extends Error {} // no task token in the event
// The token cannot be a task token (a placeholder, cut short, with spaces...).
class TokenMalformed extends Error {}
class TokenNotWaiting extends Error {} // issued, but its task waits no more
class TokenUnknown extends Error {} // Step Functions never issued it
class DecisionMissing extends Error {} // neither approve nor heartbeat
class DecisionInvalid extends Error {} // `approve` is there, but is not true or false
class CommentTooLong extends Error {} // larger than Step Functions takes from a task

// Each error's name is the invocation's errorType: it says what went wrong.
for (const type of [
  TokenMissing,
  TokenMalformed,
  TokenNotWaiting,
  TokenUnknown,
  DecisionMissing,
  DecisionInvalid,
  CommentTooLong,
]) {
  type.prototype.name = type.name;
}

function readToken(event) {
  let token = event.token || event.taskToken;
  if (!token) {
    throw new TokenMissing(
      'The event has no "token". Copy the task token from the reviewers\' notification ' +
        'in the inbox (or run `sfnlab token`) into the event.',
    );
  }
  token = String(token).trim();
  if (TOKEN_PLACEHOLDER_MARKS.some((mark) => token.includes(mark)) || token.length < 16) {
    throw new TokenMalformed(
      `${JSON.stringify(token.slice(0, 60))} is not a task token: it still looks like the ` +
        'placeholder, or was cut short when copied. Copy the whole taskToken value from ' +
        "the reviewers' notification.",
    );
  }
  return token;
}

/** The decision to hand to Step Functions: approved or not, by whom, and why. */
function readDecision(event) {
  if (!('approve' in event)) {
    throw new DecisionMissing(
      'Say what the review decided: "approve": true or "approve": false ' +
        '(or "heartbeat": true to say the review is still going on).',
    );
  }
  const approve = event.approve;
  if (typeof approve !== 'boolean') {
    // "yes", "true" or 1 might be meant either way: only JSON's own true and false decide.
    const given = shorten(String(JSON.stringify(approve)), 80);
    throw new DecisionInvalid(
      '"approve" must be true or false (JSON, without quotes); the event has ' +
        `"approve": ${given}. Nothing was sent to Step Functions.`,
    );
  }
  const reviewer = String(event.reviewer || 'a reviewer');
  const comment = String(event.comment || '');
  const verdict = approve ? 'Approved' : 'Rejected';
  return {
    approved: approve,
    reviewer,
    comment,
    summary: `${verdict} by ${reviewer}` + (comment ? `: ${comment}` : ''),
    decidedAt: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
  };
}

// What Step Functions' refusals mean for the reviewer, and what to do (by error code).
const SPENT = (code) =>
  `Step Functions no longer waits for this token (${code}): the review it belongs to is ` +
  'over. Either the token was already used (a token approves or rejects once; with two ' +
  'reviewers, each has a token of their own), or the review timed out, or its execution ' +
  'was stopped or has ended. Look at the execution (`sfnlab status`); to review again, ' +
  'start a new execution and use the token from its notification.';
const UNKNOWN = (code) =>
  `Step Functions does not know this token (${code}): it never issued it. It may be ` +
  'mistyped, cut short or padded when copied, or come from a LocalStack that has since ' +
  "been restarted. Copy the whole taskToken from the newest reviewers' notification " +
  '(`sfnlab token` prints it).';
const MALFORMED = (code, message) =>
  `Step Functions refuses this token as malformed (${code}: ${message}). A task token is ` +
  'one unbroken string of at most 2,048 characters: copy just the taskToken value from ' +
  "the reviewers' notification.";

/**
 * Step Functions' refusal turned into what happened and what to do, in the reviewer's
 * words; any other error as it is.
 */
function explain(error) {
  if (!error || !error.$metadata) {
    return error; // not an answer of Step Functions
  }
  const code = error.name || '';
  const message = error.message || '';
  if (code === 'TaskTimedOut' || code === 'TaskDoesNotExist') {
    // TaskDoesNotExist: issued once; its execution has ended since.
    return new TokenNotWaiting(SPENT(code));
  }
  if (code === 'InvalidToken') {
    return new TokenUnknown(UNKNOWN(code));
  }
  if (code === 'ValidationException' && message.includes("'taskToken'")) {
    return new TokenMalformed(MALFORMED(code, shorten(message)));
  }
  if (code === 'ValidationException' && message.includes("'output'")) {
    return tooLong();
  }
  return error;
}

function shorten(text, limit = 300) {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

function tooLong() {
  return new CommentTooLong(
    'The decision is too large: Step Functions takes at most 256 KiB from a task ' +
      '(SendTaskSuccess output). Shorten the comment and send the decision again; the ' +
      'token still works.',
  );
}

function decisionOutput(decision) {
  const output = JSON.stringify(decision);
  if (Buffer.byteLength(output) > MAX_DECISION_BYTES) {
    throw tooLong();
  }
  return output;
}

exports.handler = async (event, context) => {
  const token = readToken(event);
  let decision;
  try {
    if (event.heartbeat === true) {
      await stepFunctions.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      console.log(JSON.stringify({ message: 'heartbeat sent', requestId: context.awsRequestId }));
      return event;
    }
    decision = readDecision(event);
    const output = decisionOutput(decision);
    await stepFunctions.send(new SendTaskSuccessCommand({ taskToken: token, output }));
  } catch (error) {
    throw explain(error);
  }
  console.log(JSON.stringify({ message: decision.summary, requestId: context.awsRequestId }));
  return { ...event, decision };
};

Object.assign(exports, {
  CommentTooLong,
  DecisionInvalid,
  DecisionMissing,
  MAX_DECISION_BYTES,
  TokenMalformed,
  TokenMissing,
  TokenNotWaiting,
  TokenUnknown,
  decisionOutput,
  explain,
  readDecision,
  readToken,
  stepFunctions,
});
