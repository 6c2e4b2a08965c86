'use strict';
/**
 * Step 3, Notify Reviewers: ask for a review, then wait for a human decision.
 *
 * TODO: This step runs as `lambda:invoke.waitForTaskToken`: the state machine passes the task
 * token (`$$.Task.Token`) in the event. Send the reviewers (`await send('reviewers', {...})`)
 * the branch name, the token and the execution's name.
 */

// eslint-disable-next-line no-unused-vars -- you will need them
const { log, send } = require('./simulatedAction');

exports.handler = async (event, context) => {
  throw new Error('TODO: write notifyReviewers.handler');
};
