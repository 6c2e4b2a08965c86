'use strict';
/**
 * The global `awslambda` AWS's Node.js runtime gives handlers: `streamifyResponse` marks a
 * response-streaming handler, `HttpResponseStream.from` wraps its stream for a function
 * URL. LocalStack 4.14 has no streaming invocations: what such a handler writes is
 * collected and becomes the invocation's response, as an Invoke of a streaming function
 * returns it on AWS; the HTTP metadata is dropped.
 */

const { Writable } = require('node:stream');

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

function installGlobalAwsLambda(environment) {
  const optOut = environment.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (optOut === '1' || optOut === 'true') {
    return;
  }
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') {
        handler[HIGH_WATER_MARK] = Number.parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream: {
      from(stream) {
        return stream;
      },
    },
  };
}

function isStreaming(handler) {
  return handler?.[STREAMING] === 'response';
}

/** Run a streaming handler; its stream's content, once ended, is the response. */
function runStreaming(invocation, handler, eventJson) {
  const chunks = [];
  const stream = new Writable({
    highWaterMark: handler[HIGH_WATER_MARK],
    write(chunk, encoding, done) {
      chunks.push(Buffer.from(chunk, encoding));
      done();
    },
  });
  stream.setContentType = () => {};
  const finished = new Promise((resolve) => stream.on('finish', resolve));
  const fail = (error) => invocation.once(() => invocation.postError(error));
  let returned;
  try {
    const event = JSON.parse(eventJson);
    invocation.context = invocation.makeContext(invocation.headers, false);
    returned = handler(event, stream, invocation.context);
  } catch (error) {
    fail(error);
    return;
  }
  if (!returned || typeof returned.then !== 'function') {
    fail(new Error('Streaming does not support non-async handlers.'));
    return;
  }
  const notEnded = () => Promise.reject(new Error('Response stream is not finished.'));
  const respond = () =>
    invocation.once(() =>
      invocation.post(() =>
        invocation.client.postResponse(invocation.requestId, Buffer.concat(chunks)),
      ),
    );
  Promise.resolve(returned)
    .then(() => (stream.writableEnded ? finished : notEnded()))
    .then(respond, fail);
}

module.exports = { installGlobalAwsLambda, isStreaming, runStreaming };
