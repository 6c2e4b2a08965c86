'use strict';
/**
 * What the unit tests of the JavaScript Lambdas share: the Lambdas loaded afresh, as a
 * function's code folder is laid out (with a stand-in for the AWS SDK), and an HTTP
 * server standing in for the inbox, which records what each step sends.
 */

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const LAMBDAS = path.resolve(__dirname, '..', '..', '..', 'lambdas-js');
const SDK_STAND_IN = path.join(__dirname, 'sdk-stand-in');
const MODULES = [
  'simulatedAction',
  'createCode',
  'createBranch',
  'notifyReviewers',
  'approveStepWithToken',
  'mergeToMaster',
  'createRelease',
  'notifyOps',
];

const folders = [];
process.on('exit', () => folders.forEach((folder) => fs.rmSync(folder, { recursive: true })));

/**
 * Every Lambda module, loaded from a fresh copy of lambdas-js/ with `environment` set while
 * they load (they read it once, at load, as on Lambda).
 */
function loadLambdas(environment = {}) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdas-js-'));
  folders.push(folder);
  for (const name of fs.readdirSync(LAMBDAS)) {
    if (name.endsWith('.js')) {
      fs.copyFileSync(path.join(LAMBDAS, name), path.join(folder, name));
    }
  }
  fs.symlinkSync(SDK_STAND_IN, path.join(folder, 'node_modules'), 'dir');
  const saved = { ...process.env };
  Object.assign(process.env, { APPROVE_FUNCTION_NAME: 'sfnlab-approve-step-with-token' });
  Object.assign(process.env, environment);
  try {
    return Object.fromEntries(MODULES.map((name) => [name, require(path.join(folder, name))]));
  } finally {
    for (const name of Object.keys(process.env)) {
      if (!(name in saved)) {
        delete process.env[name];
      }
    }
    Object.assign(process.env, saved);
  }
}

/** The SDK stand-in the Lambdas get (the same module instance). */
const sfn = require(path.join(SDK_STAND_IN, '@aws-sdk', 'client-sfn'));

/**
 * An HTTP server on loopback: `answer(request, body, response)` answers each request
 * (by default as the inbox does: 200 and a receipt with an id); every POST is recorded in
 * `requests` as {channel, json}.
 */
async function inbox(answer = receipt) {
  const requests = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ channel: request.url.slice(1), json: JSON.parse(body || 'null') });
      answer(request, body, response, requests.length);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  return { url, requests, close, server };
}

function receipt(request, body, response, number) {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ id: number, channel: request.url.slice(1) }));
}

/** A Lambda context with the fields the handlers read. */
function context() {
  return { awsRequestId: crypto.randomUUID(), functionName: 'test' };
}

module.exports = { LAMBDAS, MODULES, context, inbox, loadLambdas, sfn };
