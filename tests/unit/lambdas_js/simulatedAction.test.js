'use strict';
// The steps tell a passing inbox outage (worth a retry) from a failure that would repeat.

const assert = require('node:assert/strict');
const net = require('node:net');
const { test } = require('node:test');

const { inbox, loadLambdas } = require('./helpers');

/** A loopback TCP server that hands each connection to `answer`; resolves to its URL. */
async function listener(t, answer) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    answer(socket);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    sockets.forEach((socket) => socket.destroy());
    server.close();
  });
  return `http://127.0.0.1:${server.address().port}`;
}

/** `send('ops', ...)` of simulatedAction loaded with the inbox at `url`. */
function sendTo(url, timeoutSeconds = '5') {
  const { simulatedAction } = loadLambdas({ INBOX_URL: url, INBOX_TIMEOUT_SECONDS: timeoutSeconds });
  return { simulatedAction, sent: simulatedAction.send('ops', { release: 'r1' }) };
}

async function failure(promise) {
  const error = await promise.then(
    () => assert.fail('the message was sent'),
    (error) => error,
  );
  assert.ok(error instanceof Error);
  return error;
}

test('nothing listening is transient', async () => {
  const closed = net.createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address();
  await new Promise((resolve) => closed.close(resolve));
  const error = await failure(sendTo(`http://127.0.0.1:${port}`).sent);
  assert.equal(error.name, 'InboxUnreachable');
  assert.match(error.message, /ECONNREFUSED.*Is it running\? `sfnlab up` starts it\./);
});

test('a reset connection is transient', async (t) => {
  const url = await listener(t, (socket) => socket.once('data', () => socket.resetAndDestroy()));
  assert.equal((await failure(sendTo(url).sent)).name, 'InboxUnreachable');
});

test('an inbox that does not answer in time is transient', async (t) => {
  const url = await listener(t, () => {});
  const started = Date.now();
  const error = await failure(sendTo(url, '0.3').sent);
  assert.equal(error.name, 'InboxUnreachable');
  assert.match(error.message, /timed out after 0\.3 s/);
  assert.ok(Date.now() - started < 3000);
});

test('an answer cut short is transient', async (t) => {
  const url = await listener(t, (socket) =>
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id": ');
      setTimeout(() => socket.destroy(), 50);
    }),
  );
  const error = await failure(sendTo(url).sent);
  assert.equal(error.name, 'InboxUnreachable');
});

for (const status of [429, 502, 503, 504]) {
  test(`a busy inbox is transient: HTTP ${status}`, async (t) => {
    const busy = await inbox((request, body, response) => {
      response.writeHead(status);
      response.end('the inbox is busy');
    });
    t.after(busy.close);
    const error = await failure(sendTo(busy.url).sent);
    assert.equal(error.name, 'InboxUnreachable');
    assert.ok(error.message.includes(`HTTP ${status}: the inbox is busy`), error.message);
  });
}

test('a refused message is permanent', async (t) => {
  const small = await inbox((request, body, response) => {
    response.writeHead(413, 'Payload Too Large');
    response.end();
  });
  t.after(small.close);
  const { simulatedAction, sent } = sendTo(small.url);
  const error = await failure(sent);
  assert.equal(error.name, 'ActionFailed');
  assert.ok(!(error instanceof simulatedAction.InboxUnreachable));
  assert.match(error.message, /refused the message \(HTTP 413: Payload Too Large\)/);
});

test('something that is not the inbox is permanent', async (t) => {
  const url = await listener(t, (socket) =>
    socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello')),
  );
  const error = await failure(sendTo(url).sent);
  assert.equal(error.name, 'ActionFailed');
  assert.match(error.message, /not the inbox: its answer is not JSON \("hello"\)/);
});

test('something that does not speak HTTP is permanent', async (t) => {
  const url = await listener(t, (socket) =>
    socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n')),
  );
  const error = await failure(sendTo(url).sent);
  assert.equal(error.name, 'ActionFailed');
  assert.match(error.message, /does not answer as the inbox does/);
});

test('an address that is no URL, or not http, is permanent', async () => {
  for (const url of ['not a url', 'ftp://127.0.0.1:21']) {
    const error = await failure(sendTo(url).sent);
    assert.equal(error.name, 'ActionFailed', url);
  }
});

test('which causes may pass', () => {
  const { isTransient } = loadLambdas().simulatedAction;
  const cases = {
    EAI_AGAIN: true, // the name server did not answer in time
    ENOTFOUND: false, // no such host
    ECONNREFUSED: true,
    ECONNRESET: true,
    ECONNABORTED: true,
    ETIMEDOUT: true,
    EACCES: false,
  };
  for (const [code, transient] of Object.entries(cases)) {
    assert.equal(isTransient(Object.assign(new Error(code), { code })), transient, code);
  }
});

test('the reachable inbox gets the message and gives its receipt', async (t) => {
  const server = await inbox();
  t.after(server.close);
  const receipt = await sendTo(`${server.url}/`).sent; // a trailing slash is fine
  assert.deepEqual(receipt, { id: 1, channel: 'ops' });
  assert.deepEqual(server.requests, [{ channel: 'ops', json: { release: 'r1' } }]);
});

test('both errors are Errors whose name is what Step Functions matches', () => {
  const { ActionFailed, InboxUnreachable } = loadLambdas().simulatedAction;
  const unreachable = new InboxUnreachable('x');
  assert.ok(unreachable instanceof ActionFailed && unreachable instanceof Error);
  assert.equal(unreachable.name, 'InboxUnreachable');
  assert.equal(new ActionFailed('x').name, 'ActionFailed');
});
