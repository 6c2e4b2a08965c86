'use strict';
/**
 * Step 2, Create Branch: the code goes on a branch of its own.
 *
 * Adds `branch` (its name) to the payload: the `branch` of the start event if it has one,
 * else one made from the issue, like `feature/ISSUE-42-login-button-does-nothing`.
 */

const { log, send } = require('./simulatedAction');

function branchName(event) {
  if (event.branch) {
    return String(event.branch);
  }
  const issue = event.issue || {};
  const slug = String(issue.title ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return [`feature/${issue.id ?? 'ISSUE-1'}`, slug.slice(0, 40)].filter(Boolean).join('-');
}

exports.handler = async (event, context) => {
  const branch = branchName(event);
  const commit = (event.code || {}).commit ?? null;
  await send('git', { action: 'branch created', branch, from: 'master', commit });
  log(context, 'branch created', { branch });
  return { ...event, branch };
};

exports.branchName = branchName;
