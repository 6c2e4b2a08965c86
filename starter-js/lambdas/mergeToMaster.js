'use strict';
/**
 * Step 4, Merge To Master: the approved branch is merged, by its name.
 *
 * TODO: Take the branch name from the payload, tell the inbox (`await send('git', {...})`)
 * which branch was merged, and return the payload plus what you merged.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write mergeToMaster.handler');
};
