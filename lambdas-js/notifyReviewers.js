'use strict';
/**
 * Step 3, Notify Reviewers: ask for a review, then wait for a human decision.
 *
 * Runs as `lambda:invoke.waitForTaskToken`: Step Functions passes a task token and waits
 * until somebody hands that token back with SendTaskSuccess (approve or reject). This
 * step only tells the reviewers, on the inbox's `reviewers` channel: the branch, the
 * token, the execution's name, and exactly what to run to approve or reject.
 *
 * Event (built by the state machine):
 *   {"taskToken": "...", "executionName": "...", "executionArn": "...",
 *    "reviewer": "(optional) who is asked", "input": {<the payload so far>}}
 *
 * Environment:
 *   APPROVE_FUNCTION_NAME  the manual approve Lambda, named in the instructions
 *   APPROVAL_URL           (optional) the approval page behind a link: the message then
 *                          carries a link to approve and one to reject
 */

const { log, send } = require('./simulatedAction');

const APPROVE_FUNCTION_NAME = process.env.APPROVE_FUNCTION_NAME || 'approve_step_with_token';
const APPROVAL_URL = process.env.APPROVAL_URL || '';

/** `text` as one word for a POSIX shell: quoted unless it is safe as it is. */
function shellQuote(text) {
  if (text === '') {
    return "''";
  }
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** What to paste into a terminal in the kit's folder: nothing needs sourcing first. */
function commands(token, approve) {
  // Spaced as the Python Lambda writes it (json.dumps): the same message in either track.
  const payload = `{"token": ${JSON.stringify(token)}, "approve": ${approve}}`;
  const verb = approve ? 'approve' : 'reject';
  return {
    sfnlab: `.sfnlab/venv/bin/sfnlab ${verb} --token ${shellQuote(token)}`,
    // The Lambda's answer (the decision, or why the token was refused) is printed: the
    // AWS CLI itself exits 0 even when the function failed.
    awslocal:
      `scripts/awslocal lambda invoke --function-name ${APPROVE_FUNCTION_NAME} ` +
      `--payload ${shellQuote(payload)} .sfnlab/decision.json ` +
      '&& cat .sfnlab/decision.json',
  };
}

/**
 * A link to approve and one to reject. Each opens a page that asks first: a link
 * previewer fetching it decides nothing. Whoever holds one can decide the review.
 */
function links(token, executionArn, approvalUrl = APPROVAL_URL) {
  const link = (decision) =>
    `${approvalUrl}?${new URLSearchParams({ decision, execution: executionArn, token })}`;
  return { approve: link('approve'), reject: link('reject') };
}

function reviewRequest(event, approvalUrl = APPROVAL_URL) {
  const token = event.taskToken;
  const payload = event.input || {};
  const branch = payload.branch ?? '(no branch)';
  const request = {
    subject: `Please review branch ${branch}`,
    branch,
    issue: payload.issue ?? null,
    commit: (payload.code || {}).commit ?? null,
    execution: event.executionName ?? null,
    executionArn: event.executionArn ?? null,
    taskToken: token,
    toApprove: commands(token, true),
    toReject: commands(token, false),
  };
  if (approvalUrl && event.executionArn) {
    request.links = links(token, event.executionArn, approvalUrl);
  }
  if (event.reviewer) {
    request.reviewer = event.reviewer;
  }
  return request;
}

exports.handler = async (event, context) => {
  if (!event.taskToken) {
    throw new Error(
      'No taskToken in the event: this step must run as lambda:invoke.waitForTaskToken ' +
        'with "taskToken.$": "$$.Task.Token" in its Payload.',
    );
  }
  const request = reviewRequest(event);
  await send('reviewers', request);
  log(context, 'review requested', { branch: request.branch, execution: request.execution });
  return event;
};

exports.commands = commands;
exports.links = links;
exports.reviewRequest = reviewRequest;
exports.shellQuote = shellQuote;
