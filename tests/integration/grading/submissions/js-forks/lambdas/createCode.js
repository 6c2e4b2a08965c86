'use strict';
// Hostile: start 300 long-lived processes from JavaScript (child_process), else fail.

const { spawn } = require('node:child_process');

function started(child) {
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
}

exports.handler = async (event) => {
  let count = 0;
  for (let i = 0; i < 300; i += 1) {
    const child = spawn('/bin/sleep', ['234.5'], { argv0: 'sleep', detached: true, stdio: 'ignore' });
    if (!(await started(child))) {
      break;
    }
    child.unref();
    count += 1;
  }
  if (count < 300) {
    throw new Error(`attack blocked: only ${count} processes could start`);
  }
  return { ...event, code: { processes: count } };
};
