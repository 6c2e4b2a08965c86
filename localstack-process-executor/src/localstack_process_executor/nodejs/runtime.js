'use strict';
/**
 * The Node.js runtime of the process executor: a client of the Lambda Runtime API that
 * hosts one function's handler, behaving as AWS's Node.js runtime does (handler loading,
 * async and callback handlers, `context`, errors, `console` lines). Plain Node.js, no
 * dependency.
 *
 *     node runtime.js
 *
 * It reads AWS_LAMBDA_RUNTIME_API, _HANDLER and LAMBDA_TASK_ROOT from its environment.
 * Started by the process executor, it is started ahead of need, loads itself, and waits
 * for its assignment (the function's environment and code folder) on the pipe
 * _PROCESS_EXECUTOR_ASSIGNMENT_FD names; once assigned it is indistinguishable from a
 * process started for that function. The executor's keeper serves it the Runtime API
 * (runtime_api.py), which answers only requests showing the environment's secret: it comes
 * with the assignment (never in the environment, which the function's code reads).
 */

const fs = require('node:fs');
const { RuntimeApiClient } = require('./runtime_api_client.js');
const { confineModulePaths } = require('./module_paths.js');
const consoleLog = require('./console_log.js');
const errors = require('./errors.js');
const { loadHandler } = require('./handler_loader.js');
const { Invocation } = require('./invocation.js');
const { installGlobalAwsLambda, isStreaming, runStreaming } = require('./streaming.js');

const ASSIGNMENT_FD = '_PROCESS_EXECUTOR_ASSIGNMENT_FD';
// Built-in modules most handlers and the AWS SDK load: a process started ahead of need
// loads them while it waits, so that a cold start does not.
const PRELOADED = ['node:https', 'node:crypto', 'node:os', 'node:url', 'node:stream', 'node:zlib'];
const CALLBACK_WARNING =
  'AWS Lambda plans to remove support for callback-based function handlers starting with ' +
  'Node.js 24. You will need to update this function to use an async handler to use ' +
  'Node.js 24 or later. For more information and to provide feedback on this change, see ' +
  'https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To ' +
  'disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment ' +
  'variable.';
const CALLBACK_REMOVED =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting ' +
  'with Node.js 24. You need to modify this function to use a supported handler signature ' +
  'to use Node.js 24 or later. For more information see ' +
  'https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

/**
 * Wait for the executor's assignment, if this process was started ahead of need, and
 * become the process the function would have been started as. null: none will come.
 */
function adoptAssignment() {
  const fd = process.env[ASSIGNMENT_FD];
  if (fd === undefined) {
    const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
    return { taskRoot, scope: null, awsPaths: [], secret: null };
  }
  PRELOADED.forEach((name) => require(name));
  const text = fs.readFileSync(Number(fd), 'utf8'); // blocks until the assignment comes
  fs.closeSync(Number(fd));
  const assignment = text ? JSON.parse(text) : null;
  if (!assignment) {
    return null;
  }
  for (const name of Object.keys(process.env)) {
    delete process.env[name];
  }
  Object.assign(process.env, assignment.environment); // TZ included: Node.js follows it
  process.chdir(assignment.task_root);
  return {
    taskRoot: assignment.task_root,
    scope: assignment.module_scope ?? null,
    awsPaths: assignment.aws_paths ?? [],
    secret: assignment.secret || null,
  };
}

/** N of AWS_EXECUTION_ENV `AWS_Lambda_nodejsN.x`; null when run elsewhere. */
function runtimeMajor(executionEnvironment) {
  const match = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(executionEnvironment || '');
  return match ? Number(match[1]) : null;
}

function isAsyncFunction(handler) {
  try {
    return handler.constructor?.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

async function main() {
  const adopted = adoptAssignment();
  if (adopted === null) {
    return; // started ahead of need and not used: nothing keeps the process alive
  }
  confineModulePaths(adopted.scope);
  errors.setAwsPaths([
    [adopted.taskRoot, '/var/task'],
    [__dirname, '/var/runtime'],
    ...adopted.awsPaths,
  ]);
  consoleLog.patchConsole(process.env);
  const client = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API, adopted.secret);
  const major = runtimeMajor(process.env.AWS_EXECUTION_ENV);
  const callbacks = major === null || major < 24;

  let current = null; // the invocation in progress, or the last one
  let started = false; // the first invocation has come: init is over
  let exiting = false;

  /** An error nothing caught: report it for the invocation (or the init), then exit. */
  function fatal(label, error, code) {
    if (exiting) {
      return;
    }
    exiting = true;
    consoleLog.logError(label, error);
    let report = Promise.resolve();
    if (!started) {
      report = client.postInitError(errors.toRapidResponse(error));
    } else if (current && !current.reported) {
      current.reported = true;
      report = client.postError(current.requestId, errors.toRapidResponse(error));
    }
    const exit = () => process.exit(code);
    report.then(exit, exit);
  }

  process.on('uncaughtException', (error) => fatal('Uncaught Exception', error, 129));
  process.on('unhandledRejection', (reason, promise) =>
    fatal(
      'Unhandled Promise Rejection',
      new errors.UnhandledPromiseRejection(reason, promise),
      128,
    ),
  );
  process.on('beforeExit', () => current?.eventLoopEmpty());

  let handler;
  try {
    installGlobalAwsLambda(process.env);
    handler = await loadHandler(adopted.taskRoot, process.env._HANDLER ?? '');
    const callbackStyle = handler.length >= 3 && !isStreaming(handler);
    if (!callbacks && callbackStyle) {
      throw new errors.CallbackHandlerDeprecated(CALLBACK_REMOVED);
    }
    if (
      callbacks &&
      callbackStyle &&
      !isAsyncFunction(handler) &&
      process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined
    ) {
      console.warn(CALLBACK_WARNING);
    }
  } catch (error) {
    fatal(callbacks ? 'Uncaught Exception' : 'Init Error', error, 129);
    return;
  }
  const options = { isAsync: isAsyncFunction(handler), callbacks };

  const scheduleNext = () => setImmediate(() => handleNext().catch(lost));
  const lost = (error) => fatal('Unexpected Top Level Error', error, 129);

  async function handleNext() {
    const { event, headers } = await client.nextInvocation();
    started = true;
    consoleLog.setRequestId(headers['lambda-runtime-aws-request-id']);
    if (headers['lambda-runtime-trace-id']) {
      process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
    const onReported = (error) => (error ? lost(error) : scheduleNext());
    current = new Invocation(client, headers, onReported, options);
    if (isStreaming(handler)) {
      runStreaming(current, handler, event);
    } else {
      current.run(handler, event);
    }
  }

  scheduleNext();
}

main().catch((error) => {
  process.stderr.write(`[process executor] the Node.js runtime failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
