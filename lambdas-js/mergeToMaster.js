'use strict';
/**
 * Step 4, Merge To Master: the approved branch is merged, by its name.
 *
 * Adds `merge` (what was merged into master, and the merge commit) to the payload.
 */

const crypto = require('node:crypto');

const { log, send } = require('./simulatedAction');

function merge(branch, commit) {
  const mergeCommit = crypto
    .createHash('sha1')
    .update(`merge:${branch}:${commit}`)
    .digest('hex')
    .slice(0, 12);
  return { branch, into: 'master', commit: mergeCommit };
}

exports.handler = async (event, context) => {
  const branch = event.branch;
  if (!branch) {
    throw new Error(
      'Nothing to merge: the payload has no "branch". Create Branch adds it; ' +
        'make sure each step returns the payload it received.',
    );
  }
  const merged = merge(branch, (event.code || {}).commit);
  await send('git', { action: 'merged', ...merged });
  log(context, 'merged', { branch, commit: merged.commit });
  return { ...event, merge: merged };
};

exports.merge = merge;
