'use strict';
// The approve Lambda checks its input before it ever calls Step Functions, and says what
// Step Functions' refusals mean.

const assert = require('node:assert/strict');
const { beforeEach, mock, test } = require('node:test');

const { context, loadLambdas, sfn } = require('./helpers');

const TOKEN = '1234abcd-5678-4f00-9abc-def012345678';
const approve = loadLambdas().approveStepWithToken;

beforeEach(() => {
  sfn.SFNClient.sent.splice(0);
  mock.method(console, 'log', () => {});
});

test('approving sends SendTaskSuccess with the decision, and returns the event with it', async () => {
  const event = { token: TOKEN, approve: true, reviewer: 'bob', comment: 'Looks good' };
  const result = await approve.handler(structuredClone(event), context());
  const [sent] = sfn.SFNClient.sent;
  assert.equal(sent.command, 'SendTaskSuccessCommand');
  assert.equal(sent.input.taskToken, TOKEN);
  const decision = JSON.parse(sent.input.output);
  assert.deepEqual(result, { ...event, decision });
  assert.equal(decision.approved, true);
  assert.equal(decision.summary, 'Approved by bob: Looks good');
  assert.match(decision.decidedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
});

test('a rejection is a SendTaskSuccess too: the Choice reads approved: false', async () => {
  await approve.handler({ taskToken: ` ${TOKEN}\n`, approve: false }, context());
  const [sent] = sfn.SFNClient.sent;
  assert.equal(sent.command, 'SendTaskSuccessCommand');
  assert.equal(sent.input.taskToken, TOKEN); // `taskToken` works too, trimmed
  assert.equal(JSON.parse(sent.input.output).summary, 'Rejected by a reviewer');
});

test('a heartbeat only says the review goes on', async () => {
  const event = { token: TOKEN, heartbeat: true };
  assert.deepEqual(await approve.handler(event, context()), event);
  assert.deepEqual(sfn.SFNClient.sent, [
    { command: 'SendTaskHeartbeatCommand', input: { taskToken: TOKEN } },
  ]);
});

test('a missing token says where to find one', async () => {
  await assert.rejects(approve.handler({ approve: true }, context()), {
    name: 'TokenMissing',
    message: /inbox/,
  });
});

for (const token of ["<paste the taskToken from the reviewers' notification here>", '1234abcd', '12 34']) {
  test(`a placeholder or cut token is malformed: ${token}`, async () => {
    await assert.rejects(approve.handler({ token, approve: true }, context()), {
      name: 'TokenMalformed',
      message: /not a task token/,
    });
    assert.deepEqual(sfn.SFNClient.sent, []);
  });
}

test('a missing decision says what to write', async () => {
  await assert.rejects(approve.handler({ token: TOKEN }, context()), {
    name: 'DecisionMissing',
    message: /"approve": true/,
  });
});

test('the decision names reviewer and comment', () => {
  const decision = approve.readDecision({ approve: false, reviewer: 'bob', comment: 'needs tests' });
  assert.equal(decision.approved, false);
  assert.equal(decision.summary, 'Rejected by bob: needs tests');
});

for (const [value, quoted] of [
  ['yes', '"yes"'],
  ['true', '"true"'],
  ['No', '"No"'],
  [1, '1'],
  [0, '0'],
  [null, 'null'],
  [[true], '[true]'],
  [{ ok: true }, '{"ok":true}'],
]) {
  test(`any other approve is refused, quoting what was given: ${quoted}`, async () => {
    const refused = await approve
      .handler({ token: TOKEN, approve: value }, context())
      .catch((error) => error);
    assert.equal(refused.name, 'DecisionInvalid');
    assert.ok(refused.message.includes(`"approve": ${quoted}`), refused.message);
    assert.ok(refused.message.includes('true or false'));
    assert.ok(!refused.message.includes('missing'));
    assert.deepEqual(sfn.SFNClient.sent, []);
  });
}

test('a long approve value is quoted short', () => {
  assert.throws(
    () => approve.readDecision({ approve: 'y'.repeat(10000) }),
    (error) => error.name === 'DecisionInvalid' && error.message.length < 400,
  );
});

const SPENT_MESSAGE = "Task Timed Out: 'Provided task does not exist anymore'";

test('a spent token says the review is over and what to do', () => {
  const error = approve.explain(sfn.serviceError('TaskTimedOut', SPENT_MESSAGE));
  assert.equal(error.name, 'TokenNotWaiting');
  // Each way a review ends on AWS answers TaskTimedOut: all are named, and the way out.
  for (const cause of ['already used', 'timed out', 'stopped', 'ended', 'start a new execution']) {
    assert.ok(error.message.includes(cause), cause);
  }
});

test('a token never issued is named unknown, not waiting', () => {
  const error = approve.explain(sfn.serviceError('InvalidToken', 'Invalid Token'));
  assert.equal(error.name, 'TokenUnknown');
  assert.ok(error.message.includes('never issued') && error.message.includes('sfnlab token'));
  assert.ok(!error.message.includes('already used'));
});

test('a task that no longer exists is a token not waiting', () => {
  const error = approve.explain(sfn.serviceError('TaskDoesNotExist', 'gone'));
  assert.equal(error.name, 'TokenNotWaiting');
  assert.ok(error.message.includes('TaskDoesNotExist') && !error.message.includes('never issued'));
});

test('a token Step Functions calls malformed is named so', () => {
  const message =
    "1 validation error detected: Value '" +
    't'.repeat(3000) +
    "' at 'taskToken' failed to satisfy constraint: Member must have length less than or " +
    'equal to 2048';
  const error = approve.explain(sfn.serviceError('ValidationException', message));
  assert.equal(error.name, 'TokenMalformed');
  assert.ok(error.message.includes('2,048 characters') && error.message.length < 800);
});

test('an output refused as too long asks for a shorter comment', () => {
  const message =
    "1 validation error detected: Value at 'output' failed to satisfy constraint: Member " +
    'must have length less than or equal to 262144';
  const error = approve.explain(sfn.serviceError('ValidationException', message));
  assert.equal(error.name, 'CommentTooLong');
  assert.ok(error.message.includes('Shorten the comment'));
});

test('any other refusal, or an error that is not a refusal, is passed on unchanged', () => {
  const denied = sfn.serviceError('AccessDeniedException', 'not allowed');
  assert.equal(approve.explain(denied), denied);
  const offline = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.equal(approve.explain(offline), offline);
});

test("Step Functions' refusal reaches the invoker explained", async () => {
  sfn.SFNClient.refuseNext = sfn.serviceError('TaskTimedOut', SPENT_MESSAGE);
  await assert.rejects(approve.handler({ token: TOKEN, approve: true }, context()), {
    name: 'TokenNotWaiting',
    message: /\(TaskTimedOut\)/,
  });
  sfn.SFNClient.refuseNext = sfn.serviceError('InvalidToken', 'Invalid Token');
  await assert.rejects(approve.handler({ token: TOKEN, heartbeat: true }, context()), {
    name: 'TokenUnknown',
  });
});

test('a comment too large for Step Functions is refused before sending', async () => {
  // 256 KiB is SendTaskSuccess's output limit.
  const event = { token: TOKEN, approve: false, comment: 'x'.repeat(262144) };
  await assert.rejects(approve.handler(event, context()), {
    name: 'CommentTooLong',
    message: /256 KiB/,
  });
  assert.deepEqual(sfn.SFNClient.sent, []);
});

test('the limit counts UTF-8 bytes, not characters', () => {
  const decision = approve.readDecision({ approve: true, comment: 'é'.repeat(131072) });
  assert.throws(() => approve.decisionOutput(decision), { name: 'CommentTooLong' });
});

test('a long comment within the limit is kept whole', () => {
  const decision = approve.readDecision({ approve: true, comment: 'y'.repeat(100000) });
  const output = approve.decisionOutput(decision);
  assert.ok(Buffer.byteLength(output) <= 262144);
  assert.equal(JSON.parse(output).comment, 'y'.repeat(100000));
});
