'use strict';
/**
 * Step 2, Create Branch: the code goes on a branch of its own.
 *
 * TODO: Add `branch` (its name: from the start event, or made from the issue) to the payload,
 * tell the inbox (`await send('git', {...})`), and return the payload plus `branch`.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write createBranch.handler');
};
