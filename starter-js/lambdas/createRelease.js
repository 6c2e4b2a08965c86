'use strict';
/**
 * Step 5, Create Release: a release is cut from master after the merge.
 *
 * TODO: Add `release` (with a `name`) to the payload, tell the inbox
 * (`await send('releases', ...)`), and return the payload plus `release`.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write createRelease.handler');
};
