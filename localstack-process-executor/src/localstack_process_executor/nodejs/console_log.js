'use strict';
/**
 * `console` as AWS's Node.js runtime makes it: each call is one log line with the time, the
 * request id and the level (`2024-05-01T10:00:00.000Z\t<request id>\tINFO\tmessage`), or a
 * JSON object with the same fields when the function's log format is JSON; a message's
 * own line breaks become carriage returns, so that it stays one line (one log event).
 * AWS_LAMBDA_LOG_LEVEL drops the levels below it. The output goes to standard output:
 * the environment's log, which reaches CloudWatch Logs.
 */

const util = require('node:util');
const { intoError, toFormatted } = require('./errors.js');

// Where AWS's runtime keeps the request id in progress (some libraries read it there).
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

function setRequestId(requestId) {
  globalThis[REQUEST_ID] = requestId;
}

function requestId() {
  return globalThis[REQUEST_ID];
}

function writeLine(line) {
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function textLine(level, message, params) {
  return `${new Date().toISOString()}\t${requestId()}\t${level}\t${util.format(message, ...params)}`;
}

/** An error inside a JSON log line: its type, message and stack lines, and its own fields. */
function errorAsJson(key, value) {
  if (!(value instanceof Error)) {
    return value;
  }
  return {
    errorType: value?.constructor?.name ?? 'UnknownError',
    errorMessage: value.message,
    stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    ...value,
  };
}

function jsonLine(level, message, params) {
  const entry = { timestamp: new Date().toISOString(), level, requestId: requestId() };
  if (params.length === 0) {
    entry.message = message;
    try {
      return JSON.stringify(entry, errorAsJson);
    } catch {
      entry.message = util.format(message);
      return JSON.stringify(entry);
    }
  }
  entry.message = util.format(message, ...params);
  const error = [message, ...params].find((param) => param instanceof Error);
  if (error) {
    entry.errorType = error?.constructor?.name ?? 'UnknownError';
    entry.errorMessage = error.message;
    entry.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(entry);
}

let logErrorWith = null;

/** Replace console's methods for the function's environment (`environment`: process.env). */
function patchConsole(environment) {
  const json = (environment.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
  const format = json ? jsonLine : textLine;
  const lowest = Math.max(
    0,
    LEVELS.indexOf((environment.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()),
  );
  const methods = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };
  for (const [method, level] of Object.entries(methods)) {
    console[method] =
      LEVELS.indexOf(level) >= lowest
        ? (message, ...params) => writeLine(format(level, message, params))
        : () => {};
  }
  console.log = console.info;
  console.fatal = (message, ...params) => writeLine(format('FATAL', message, params));
  logErrorWith = json
    ? (label, error) => console.error(intoError(error))
    : (label, error) => console.error(label, toFormatted(intoError(error)));
}

/** Log an error the runtime caught ("Invoke Error", "Uncaught Exception", ...). */
function logError(label, error) {
  if (logErrorWith) {
    logErrorWith(label, error);
  } else {
    writeLine(textLine('ERROR', label, [toFormatted(intoError(error))]));
  }
}

module.exports = { logError, patchConsole, requestId, setRequestId };
