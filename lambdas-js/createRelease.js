'use strict';
/**
 * Step 5, Create Release: a release is cut from master after the merge.
 *
 * Adds `release` to the payload; its `name` is what Notify Ops asks to deploy.
 */

const { log, send } = require('./simulatedAction');

/** `date` as 2026.12.06, in the local time zone (on Lambda: UTC). */
function dotted(date) {
  const two = (number) => String(number).padStart(2, '0');
  return `${date.getFullYear()}.${two(date.getMonth() + 1)}.${two(date.getDate())}`;
}

function releaseFor(event, today = new Date()) {
  const issueId = (event.issue || {}).id ?? 'ISSUE-1';
  const commit = (event.merge || {}).commit ?? 'unknown';
  return {
    name: `release-${dotted(today)}-${issueId}`,
    commit,
    notes: `Solves ${issueId}`,
  };
}

exports.handler = async (event, context) => {
  const release = releaseFor(event);
  await send('releases', { action: 'release created', release });
  log(context, 'release created', { release: release.name });
  return { ...event, release };
};

exports.releaseFor = releaseFor;
