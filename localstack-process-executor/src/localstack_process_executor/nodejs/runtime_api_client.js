'use strict';
/**
 * A client of the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API, `host:port`): the next
 * invocation, its response or error, an init error. One kept-alive connection, which does
 * not keep the event loop alive while it is idle (callbackWaitsForEmptyEventLoop depends
 * on that). Every request shows the environment's secret, when it has one: the keeper's
 * Runtime API answers no other (runtime_api.py).
 */

const http = require('node:http');

const API = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const SECRET_HEADER = 'X-Process-Executor-Secret'; // lambda_platform.py's SECRET_HEADER

class RuntimeApiClient {
  constructor(address, secret = null) {
    if (!address) {
      throw new Error('AWS_LAMBDA_RUNTIME_API is not set: no Runtime API to ask for invocations');
    }
    const [hostname, port] = address.split(':');
    this.hostname = hostname;
    this.port = Number.parseInt(port, 10);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.secretHeaders = secret ? { [SECRET_HEADER]: secret } : {};
  }

  request(method, path, body, extraHeaders = {}) {
    const headers = { ...this.secretHeaders, ...extraHeaders };
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          hostname: this.hostname,
          port: this.port,
          path,
          method,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'Content-Length': body.length },
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode,
              headers: response.headers,
              body: Buffer.concat(chunks),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** The next invocation: {event (its JSON text), headers}; waits until there is one. */
  async nextInvocation() {
    const response = await this.request('GET', `${API}/invocation/next`);
    if (response.status !== 200) {
      throw new Error(`The Runtime API refused the next invocation (${response.status})`);
    }
    return { event: response.body.toString('utf8'), headers: response.headers };
  }

  /** `body`: the response's JSON text, or bytes as they are (a streaming handler's). */
  postResponse(requestId, body) {
    const path = `${API}/invocation/${encodeURIComponent(requestId)}/response`;
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    return this.request('POST', path, bytes, {
      'Content-Type': 'application/json',
    });
  }

  postError(requestId, payload) {
    const path = `${API}/invocation/${encodeURIComponent(requestId)}/error`;
    return this.postJson(path, payload);
  }

  postInitError(payload) {
    return this.postJson(`${API}/init/error`, payload);
  }

  postJson(path, payload) {
    return this.request('POST', path, Buffer.from(JSON.stringify(payload), 'utf8'), {
      'Content-Type': 'application/json',
      [ERROR_TYPE_HEADER]: String(payload.errorType ?? 'Unknown').replace(/[^\x20-\x7e]/g, '?'),
    });
  }
}

module.exports = { RuntimeApiClient };
