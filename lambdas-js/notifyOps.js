'use strict';
/**
 * Step 6, Notify Ops: ask Ops to deploy the release the previous step created.
 *
 * Tells the inbox's `ops` channel, naming the release.
 */

const { log, send } = require('./simulatedAction');

function deploymentRequest(event) {
  const release = event.release || {};
  if (!release.name) {
    throw new Error(
      'No release to deploy: the payload has no "release" with a "name". ' +
        'Create Release adds it; make sure each step returns the payload it received.',
    );
  }
  return {
    subject: `Please deploy ${release.name}`,
    release: release.name,
    branch: event.branch ?? null,
    issue: (event.issue || {}).id ?? null,
  };
}

exports.handler = async (event, context) => {
  const request = deploymentRequest(event);
  const receipt = await send('ops', request);
  log(context, 'ops notified', { release: request.release });
  return { ...event, opsNotified: { release: request.release, inboxId: receipt.id ?? null } };
};

exports.deploymentRequest = deploymentRequest;
