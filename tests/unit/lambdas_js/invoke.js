'use strict';
/**
 * Invoke one JavaScript Lambda as Lambda would, for the tests that compare it with its
 * Python twin: `node invoke.js <module>` with the event as JSON on standard input, the
 * environment as the function's. Prints {"result": ...} or {"errorType", "errorMessage"}.
 */

const { context, loadLambdas } = require('./helpers');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const lambda = loadLambdas()[process.argv[2]];
  const log = console.log;
  console.log = () => {}; // the handler's log lines: only the outcome goes to stdout
  let outcome;
  try {
    outcome = { result: await lambda.handler(JSON.parse(Buffer.concat(chunks)), context()) };
  } catch (error) {
    outcome = { errorType: error.name, errorMessage: error.message };
  }
  log(JSON.stringify(outcome));
}

main();
