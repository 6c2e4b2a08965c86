'use strict';
/**
 * What every step shares: simulate an action with one HTTP request to the inbox, and log.
 *
 * The inbox stands in for a public request catcher: each step POSTs what it did to a
 * channel (`/reviewers`, `/ops`, ...) and the learner reads it there. Node.js's own
 * modules only: a function's zip carries no `node_modules` of its own.
 *
 * Two kinds of failure, told apart so that the state machine can retry one of them (the
 * error's `name` is the `errorType` Step Functions matches):
 *   InboxUnreachable  the inbox did not answer (refused, reset, timed out) or said it is
 *                     busy (503): a moment later it may work. The definition's Retry
 *                     catches exactly this error name.
 *   ActionFailed      the inbox answered and refused the message, or its address is
 *                     wrong: trying again would fail again.
 *
 * Environment (set by `sfnlab deploy`):
 *   INBOX_URL              where the inbox listens, e.g. http://127.0.0.1:4567
 *   INBOX_TIMEOUT_SECONDS  how long to wait for it (default 5)
 */

const http = require('node:http');
const https = require('node:https');

const INBOX_URL = (process.env.INBOX_URL || 'http://127.0.0.1:4567').replace(/\/+$/, '');
const INBOX_TIMEOUT_SECONDS = Number.parseFloat(process.env.INBOX_TIMEOUT_SECONDS || '5');
// Answers that say "not now" rather than "no".
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
// Failures to reach the inbox that may pass: refused, reset, timed out, or a name server
// that did not answer in time (but not a host name that does not exist).
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/** The inbox could not be told about the action, and trying again will not help. */
class ActionFailed extends Error {}
ActionFailed.prototype.name = 'ActionFailed';

/** The inbox did not answer, or was too busy to: trying again shortly may work. */
class InboxUnreachable extends ActionFailed {}
InboxUnreachable.prototype.name = 'InboxUnreachable';

/** POST `message` as JSON to the inbox's `channel`; resolves to the inbox's receipt. */
async function send(channel, message) {
  const url = `${INBOX_URL}/${channel}`;
  const { status, reason, body } = await post(url, JSON.stringify(message));
  if (status < 200 || status > 299) {
    throw refusal(url, status, reason, body);
  }
  const text = body.toString('utf8');
  try {
    return JSON.parse(text || '{}');
  } catch {
    throw new ActionFailed(
      `What answers at ${url} is not the inbox: its answer is not JSON ` +
        `(${JSON.stringify(text.slice(0, 80))}).`,
    );
  }
}

/** One POST; resolves to the answer, whatever its status, or rejects with why none came. */
function post(url, data) {
  let target;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new ActionFailed(`The inbox's address ${url} is not a URL.`));
  }
  const transport = { 'http:': http, 'https:': https }[target.protocol];
  if (!transport) {
    return Promise.reject(
      new ActionFailed(`The inbox's address ${url} is neither http:// nor https://.`),
    );
  }
  return new Promise((resolve, reject) => {
    const request = transport.request(
      target,
      {
        method: 'POST',
        agent: false, // a connection of its own: none kept across a frozen environment
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode,
            reason: response.statusMessage,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', () =>
          reject(new InboxUnreachable(`The inbox at ${url} stopped in the middle of its answer.`)),
        );
      },
    );
    request.setTimeout(INBOX_TIMEOUT_SECONDS * 1000, () => {
      const timedOut = new Error(`timed out after ${INBOX_TIMEOUT_SECONDS} s`);
      timedOut.code = 'ETIMEDOUT';
      request.destroy(timedOut);
    });
    request.on('error', (error) => reject(unreachable(url, error)));
    request.end(data);
  });
}

/** The failure an HTTP error answer means: busy is transient, anything else is not. */
function refusal(url, status, reason, body) {
  const said = body.subarray(0, 500).toString('utf8').trim() || reason;
  if (TRANSIENT_STATUSES.has(status)) {
    return new InboxUnreachable(
      `The inbox at ${url} is busy (HTTP ${status}: ${said}); the state machine tries again.`,
    );
  }
  return new ActionFailed(`The inbox at ${url} refused the message (HTTP ${status}: ${said}).`);
}

/** The failure for a request that got no answer (or no HTTP answer) from `url`. */
function unreachable(url, error) {
  if (String(error.code).startsWith('HPE_')) {
    return new ActionFailed(
      `What answers at ${url} does not answer as the inbox does (${error.message}).`,
    );
  }
  const Failure = isTransient(error) ? InboxUnreachable : ActionFailed;
  return new Failure(
    `Could not reach the inbox at ${url} (${error.message}). Is it running? ` +
      '`sfnlab up` starts it.',
  );
}

/** Whether a failure to reach the inbox may pass (its `code`: ECONNREFUSED, ...). */
function isTransient(error) {
  return TRANSIENT_CODES.has(error && error.code);
}

/** One JSON line per event, with the request id, for CloudWatch Logs. */
function log(context, message, fields = {}) {
  console.log(JSON.stringify({ message, requestId: context.awsRequestId, ...fields }));
}

module.exports = {
  ActionFailed,
  InboxUnreachable,
  INBOX_URL,
  INBOX_TIMEOUT_SECONDS,
  isTransient,
  log,
  send,
};
