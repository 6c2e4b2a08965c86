'use strict';
/**
 * Step 1, Create Code: somebody writes the code that solves the issue.
 *
 * Adds `code` to the payload (the commit that solves the issue) and tells the inbox's
 * `code` channel. Returns everything it received, plus `code`.
 */

const crypto = require('node:crypto');

const { log, send } = require('./simulatedAction');

const CHANGED_FILES = ['src/checkout/login.py', 'tests/checkout/test_login.py'];

/** The simulated commit for `issue`: the same issue always gives the same commit. */
function createCode(issue) {
  const issueId = issue.id ?? 'ISSUE-1';
  const digest = crypto
    .createHash('sha1')
    .update(`${issueId}:${issue.title ?? ''}`)
    .digest('hex');
  return {
    commit: digest.slice(0, 12),
    author: issue.author ?? 'developer',
    message: `Fix ${issueId}: ${issue.title ?? 'the issue'}`,
    files: CHANGED_FILES,
  };
}

exports.handler = async (event, context) => {
  const code = createCode(event.issue || {});
  await send('code', {
    action: 'code created',
    repository: event.repository ?? null,
    code,
  });
  log(context, 'code created', { commit: code.commit });
  return { ...event, code };
};

exports.createCode = createCode;
