'use strict';
/**
 * Step 6, Notify Ops: ask Ops to deploy the release the previous step created.
 *
 * TODO: Tell the inbox's `ops` channel (`await send('ops', {...})`), naming the release, and
 * return the payload.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write notifyOps.handler');
};
