'use strict';
/**
 * One invocation: the `context` a handler gets, and how its end is decided, as in AWS's
 * Node.js runtime:
 *
 * - an `async` handler (or one returning a promise) ends when the promise settles;
 * - a handler's `callback(error, result)` ends it with an error at once, or with the result
 *   once the event loop is empty, unless `context.callbackWaitsForEmptyEventLoop` is false;
 *   `context.succeed`, `fail` and `done` end it at once; only the first of these counts;
 * - a handler that throws ends with that error;
 * - if the event loop empties before any of that: a non-async handler ends with `null`,
 *   an `async` one with `Runtime.NodeJsExit` (its promise can never settle).
 *
 * From nodejs24.x on, AWS's runtime takes no callback handlers (`callbacks: false`): the
 * context has no callback functions, and what a handler returns is its result.
 */

const { NodeJsExit, toRapidResponse } = require('./errors.js');
const { logError } = require('./console_log.js');

function isThenable(value) {
  return Boolean(value) && typeof value.then === 'function';
}

/** The response body AWS's runtime sends for `result`: its JSON (a Buffer too is JSON). */
function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

class Invocation {
  /**
   * @param client the Runtime API client
   * @param headers the next invocation's headers (lower-case names)
   * @param onReported called once the result is posted (the next invocation may come)
   * @param options {isAsync, callbacks}
   */
  constructor(client, headers, onReported, options) {
    this.client = client;
    this.requestId = headers['lambda-runtime-aws-request-id'];
    this.onReported = onReported;
    this.isAsync = options.isAsync;
    this.finished = false; // the handler has said how it ends
    this.reported = false; // its result has been posted
    this.whenEmpty = null; // what to do once the event loop is empty
    this.waitsForEmptyEventLoop = true;
    this.callbacks = options.callbacks;
    this.headers = headers;
    this.callback = (error, result) => this.once(() => this.fromCallback(error, result));
    this.context = null;
  }

  makeContext(headers, callbacks) {
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const invocation = this;
    // The callback part first, with its property an accessor (as in AWS's runtime, whose
    // context's JSON begins with callbackWaitsForEmptyEventLoop).
    const context = callbacks
      ? {
          get callbackWaitsForEmptyEventLoop() {
            return invocation.waitsForEmptyEventLoop;
          },
          set callbackWaitsForEmptyEventLoop(value) {
            invocation.waitsForEmptyEventLoop = value;
          },
          succeed: (result) => this.once(() => this.end(null, result)),
          fail: (error) => this.once(() => this.end(error ?? 'handled', null)),
          done: (error, result) => this.once(() => this.end(error, result)),
        }
      : {};
    return Object.assign(context, {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: this.requestId,
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis: () => deadline - Date.now(),
    });
  }

  /** Run `decide` for the first of callback/succeed/fail/done/return only. */
  once(decide) {
    if (this.finished) {
      return;
    }
    decide();
    this.finished = true;
  }

  /** Call the handler, and follow how it ends. */
  run(handler, eventJson) {
    try {
      const event = JSON.parse(eventJson);
      this.context = this.makeContext(this.headers, this.callbacks);
      const returned = this.callbacks
        ? handler(event, this.context, this.callback)
        : handler(event, this.context);
      if (isThenable(returned)) {
        Promise.resolve(returned)
          .then(
            (result) => this.once(() => this.end(null, result)),
            (error) => this.once(() => this.end(error ?? 'handled', null)),
          )
          .catch((error) => this.once(() => this.end(error, null)));
      } else if (!this.callbacks) {
        this.once(() => this.end(null, returned)); // no callback to wait for: this is it
      }
    } catch (error) {
      this.callback(error);
    }
  }

  fromCallback(error, result) {
    if (error !== undefined && error !== null) {
      this.postError(error);
    } else if (!this.waitsForEmptyEventLoop) {
      this.postResponse(result);
    } else {
      this.whenEmpty = () => setImmediate(() => this.postResponse(result));
    }
  }

  end(error, result) {
    if (error !== undefined && error !== null) {
      this.postError(error);
    } else {
      this.postResponse(result);
    }
  }

  /** The event loop has emptied ('beforeExit'): whatever the invocation waited for is done. */
  eventLoopEmpty() {
    if (this.whenEmpty) {
      const then = this.whenEmpty;
      this.whenEmpty = null;
      then();
      return;
    }
    if (this.finished || this.reported) {
      return;
    }
    this.finished = true;
    if (this.isAsync) {
      const error = new NodeJsExit();
      logError('Invoke Error', error);
      this.post(() => this.client.postError(this.requestId, toRapidResponse(error)));
    } else {
      this.postResponse(null);
    }
  }

  postResponse(result) {
    let body;
    try {
      body = serialize(result);
    } catch (error) {
      this.postError(error);
      return;
    }
    this.post(() => this.client.postResponse(this.requestId, body));
  }

  postError(error) {
    logError('Invoke Error', error);
    this.post(() => this.client.postError(this.requestId, toRapidResponse(error)));
  }

  post(send) {
    if (this.reported) {
      return;
    }
    this.reported = true;
    this.whenEmpty = null;
    send().then(
      () => this.onReported(),
      (error) => this.onReported(error),
    );
  }
}

function parseHeader(text, name) {
  if (text === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error.toString()}`);
  }
}

module.exports = { Invocation, serialize };
