'use strict';
// Each step's handler, called as Lambda calls it, with an inbox to talk to.

const assert = require('node:assert/strict');
const { after, before, beforeEach, mock, test } = require('node:test');

const { context, inbox, loadLambdas } = require('./helpers');

const START = {
  issue: { id: 'ISSUE-7', title: 'Cart total is wrong', author: 'ana' },
  repository: 'acme/webshop',
};
const BRANCH = 'feature/ISSUE-7-cart-total-is-wrong';

let server;
let lambdas;

before(async () => {
  mock.method(console, 'log', () => {}); // the handlers' log lines
  server = await inbox();
  lambdas = loadLambdas({ INBOX_URL: server.url });
});
after(() => server.close());
beforeEach(() => server.requests.splice(0));

const start = () => structuredClone(START);
const sent = (channel) => server.requests.filter((request) => request.channel === channel);

/** The payload as it reaches Merge To Master after an approved review. */
async function fullPayload() {
  let payload = await lambdas.createCode.handler(start(), context());
  payload = await lambdas.createBranch.handler(payload, context());
  return { ...payload, review: { approved: true, summary: 'Approved by bob' } };
}

test('create code adds the commit and tells the inbox', async () => {
  const result = await lambdas.createCode.handler(start(), context());
  assert.equal(result.code.commit, lambdas.createCode.createCode(START.issue).commit);
  assert.match(result.code.commit, /^[0-9a-f]{12}$/);
  assert.equal(result.code.message, 'Fix ISSUE-7: Cart total is wrong');
  const [message] = sent('code');
  assert.deepEqual(message.json.code, result.code);
  assert.equal(message.json.repository, 'acme/webshop');
});

test('the same issue always gives the same commit, another issue another', () => {
  const { createCode } = lambdas.createCode;
  assert.equal(createCode(START.issue).commit, createCode({ ...START.issue }).commit);
  assert.notEqual(createCode(START.issue).commit, createCode({ id: 'ISSUE-8' }).commit);
});

test('create branch names the branch after the issue', async () => {
  const result = await lambdas.createBranch.handler(start(), context());
  assert.equal(result.branch, BRANCH);
  assert.equal(sent('git')[0].json.branch, BRANCH);
});

test('create branch keeps a branch name from the start event', async () => {
  const event = { ...start(), branch: 'hotfix/<b>urgent</b>' };
  assert.equal((await lambdas.createBranch.handler(event, context())).branch, event.branch);
});

test('a branch name takes the first 40 characters of the title made a slug', () => {
  const { branchName } = lambdas.createBranch;
  const title = '  --Ünïcode & a very, very long title that goes on and on and on--  ';
  assert.equal(
    branchName({ issue: { id: 'ISSUE-9', title } }),
    'feature/ISSUE-9-n-code-a-very-very-long-title-that-goes-',
  );
  assert.equal(branchName({ issue: { id: 'ISSUE-9', title: '!!!' } }), 'feature/ISSUE-9');
  assert.equal(branchName({}), 'feature/ISSUE-1');
});

test('notify reviewers sends branch, token, execution and what to run', async () => {
  const payload = await lambdas.createBranch.handler(start(), context());
  const token = '1234abcd-5678-4f00-9abc-def012345678';
  const event = { taskToken: token, executionName: 'solve-1', input: payload };
  assert.deepEqual(await lambdas.notifyReviewers.handler(event, context()), event);
  const [message] = sent('reviewers');
  const body = message.json;
  assert.equal(body.branch, BRANCH);
  assert.equal(body.taskToken, token);
  assert.equal(body.execution, 'solve-1');
  assert.equal(body.toApprove.sfnlab, `.sfnlab/venv/bin/sfnlab approve --token ${token}`);
  const approve = body.toApprove.awslocal;
  assert.ok(approve.includes('--function-name sfnlab-approve-step-with-token'), approve);
  const payloadJson = approve.split("--payload '")[1].split("'")[0];
  assert.deepEqual(JSON.parse(payloadJson), { token, approve: true });
  assert.deepEqual(JSON.parse(body.toReject.awslocal.split("'")[1]), { token, approve: false });
  assert.equal('links' in body, false); // not told the approval page's address: no links
});

test('what to run quotes a token the shell would split, and only then', () => {
  const { shellQuote } = lambdas.notifyReviewers;
  assert.equal(shellQuote('AAAA+token/with=signs'), 'AAAA+token/with=signs');
  assert.equal(shellQuote("it's & more"), `'it'"'"'s & more'`);
  assert.equal(shellQuote(''), "''");
});

test('notify reviewers links to approve and reject when told the page', async () => {
  const token = 'AAAA+token/with=signs&more';
  const execution = 'arn:aws:states:us-east-1:000000000000:execution:SolveIssue:solve-1';
  const page = 'http://127.0.0.1:4566/restapis/abc/links/_user_request_/review';
  const linked = loadLambdas({ INBOX_URL: server.url, APPROVAL_URL: page });
  const payload = await linked.createBranch.handler(start(), context());
  const event = { taskToken: token, executionArn: execution, input: payload };
  await linked.notifyReviewers.handler(event, context());
  const { links } = sent('reviewers')[0].json;
  assert.deepEqual(Object.keys(links).sort(), ['approve', 'reject']);
  for (const [decision, link] of Object.entries(links)) {
    const url = new URL(link);
    assert.equal(`${url.origin}${url.pathname}`, page);
    assert.deepEqual(Object.fromEntries(url.searchParams), { decision, execution, token });
  }
});

test('notify reviewers without a token says how to pass it', async () => {
  await assert.rejects(lambdas.notifyReviewers.handler({ input: {} }, context()), {
    message: /\$\$\.Task\.Token/,
  });
  assert.deepEqual(server.requests, []);
});

test('merge to master merges the branch by name', async () => {
  const result = await lambdas.mergeToMaster.handler(await fullPayload(), context());
  assert.equal(result.merge.branch, BRANCH);
  assert.equal(result.merge.into, 'master');
  const merged = sent('git').at(-1).json;
  assert.equal(merged.action, 'merged');
  assert.equal(merged.branch, BRANCH);
});

test('merge without a branch says which step adds it', async () => {
  await assert.rejects(lambdas.mergeToMaster.handler(start(), context()), {
    message: /Create Branch adds it/,
  });
});

test('create release names the release after the issue and the day', async () => {
  const payload = await lambdas.mergeToMaster.handler(await fullPayload(), context());
  const result = await lambdas.createRelease.handler(payload, context());
  assert.match(result.release.name, /^release-\d{4}\.\d{2}\.\d{2}-ISSUE-7$/);
  assert.equal(result.release.commit, payload.merge.commit);
  assert.deepEqual(sent('releases')[0].json.release, result.release);
  const newYear = lambdas.createRelease.releaseFor(payload, new Date(2027, 0, 2));
  assert.equal(newYear.name, 'release-2027.01.02-ISSUE-7');
});

test('notify ops names the release to deploy', async () => {
  let payload = await lambdas.mergeToMaster.handler(await fullPayload(), context());
  payload = await lambdas.createRelease.handler(payload, context());
  const result = await lambdas.notifyOps.handler(payload, context());
  const [message] = sent('ops');
  assert.equal(message.json.release, payload.release.name);
  assert.ok(message.json.subject.includes(payload.release.name));
  assert.deepEqual(result.opsNotified, {
    release: payload.release.name,
    inboxId: server.requests.length,
  });
});

test('notify ops without a release says which step adds it', async () => {
  await assert.rejects(lambdas.notifyOps.handler(start(), context()), {
    message: /Create Release adds it/,
  });
});

for (const step of ['createCode', 'createBranch', 'mergeToMaster', 'createRelease', 'notifyOps']) {
  test(`${step} returns at least the payload it received`, async () => {
    let payload = await fullPayload();
    if (step === 'createRelease' || step === 'notifyOps') {
      payload = await lambdas.mergeToMaster.handler(payload, context());
    }
    if (step === 'notifyOps') {
      payload = await lambdas.createRelease.handler(payload, context());
    }
    const received = structuredClone(payload);
    const result = await lambdas[step].handler(payload, context());
    for (const [key, value] of Object.entries(received)) {
      assert.deepEqual(result[key], value, key);
    }
    assert.deepEqual(payload, received); // and left what it was given as it was
  });
}

test('every step logs one JSON line with the request id', async (t) => {
  const lines = [];
  t.mock.method(console, 'log', (line) => lines.push(line));
  const invocation = context();
  await lambdas.createCode.handler(start(), invocation);
  const [line] = lines.map((text) => JSON.parse(text));
  assert.equal(line.requestId, invocation.awsRequestId);
  assert.equal(line.message, 'code created');
});

test('an unreachable inbox is a clear error', async () => {
  const nowhere = loadLambdas({ INBOX_URL: 'http://127.0.0.1:9' });
  await assert.rejects(nowhere.createCode.handler(start(), context()), {
    name: 'InboxUnreachable',
    message: /Is it running/,
  });
});
