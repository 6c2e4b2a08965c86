'use strict';
/**
 * Errors as AWS's Node.js runtime reports them: its own `Runtime.*` error types, the
 * payload it posts to the Runtime API ({errorType, errorMessage, trace}) and the JSON it
 * writes into the function's log.
 *
 * Paths in what is reported are those of AWS's runtime: the function's code under
 * /var/task, this runtime under /var/runtime (see `setAwsPaths`).
 */

const util = require('node:util');

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class CallbackHandlerDeprecated extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
        'commonly caused by a Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}

for (const type of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  CallbackHandlerDeprecated,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  type.prototype.name = `Runtime.${type.name}`;
}

// [local folder, the folder AWS's runtime has it in], longest first.
let awsPaths = [];

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function setAwsPaths(pairs) {
  awsPaths = pairs
    .filter(([local]) => local && local !== '/')
    .sort((a, b) => b[0].length - a[0].length)
    .map(([local, aws]) => [new RegExp(`${escapeRegExp(local)}(?=[/'"):\\s]|$)`, 'g'), aws]);
}

/** `text` with this machine's folders replaced by those of AWS's runtime. */
function awsPath(text) {
  if (typeof text !== 'string') {
    return text;
  }
  return awsPaths.reduce((result, [pattern, aws]) => result.replace(pattern, aws), text);
}

/** Something with a string name, message and stack, though not made by `new Error`. */
function looksLikeError(value) {
  return Boolean(
    value &&
    typeof value.name === 'string' &&
    value.name &&
    typeof value.message === 'string' &&
    value.message &&
    typeof value.stack === 'string' &&
    value.stack,
  );
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

// DEL is not allowed in the error's header and body AWS builds from these.
const escapeDel = (text) => (typeof text === 'string' ? text.replaceAll('\x7F', '%7F') : text);

/** The error payload for the Runtime API: what Invoke returns for a failed invocation. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return {
        errorType: escapeDel(error.name),
        errorMessage: awsPath(escapeDel(error.message)),
        trace: escapeDel(error.stack)
          .split('\n')
          .map((line) => awsPath(line)),
      };
    }
    // A thrown string, number, object...: its type, and what it says of itself.
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving ' +
        'one or more of its message, name, and stack',
    };
  }
}

/** An error with its name, message, code and stack (lines), for JSON. */
function withErrorFields(key, value) {
  if (!(value instanceof Error)) {
    return value;
  }
  const fields = { errorType: value.name, errorMessage: value.message, code: value.code, ...value };
  if (typeof value.stack === 'string') {
    fields.stack = value.stack.split('\n');
  }
  return fields;
}

/** How the text log shows an error: a tab, then the error as JSON. */
function toFormatted(error) {
  try {
    return '\t' + awsPath(JSON.stringify(error, withErrorFields));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

module.exports = {
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  CallbackHandlerDeprecated,
  NodeJsExit,
  UnhandledPromiseRejection,
  awsPath,
  intoError,
  setAwsPaths,
  toFormatted,
  toRapidResponse,
};
