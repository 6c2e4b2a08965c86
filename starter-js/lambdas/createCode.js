'use strict';
/**
 * Step 1, Create Code: somebody writes the code that solves the issue.
 *
 * TODO: Add `code` to the payload (a commit id, its author, a message: static data will do),
 * tell the inbox's `code` channel with `await send('code', {...})`, and return the payload
 * you received plus `code`.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write createCode.handler');
};
