'use strict';
// Create Branch in JavaScript (CommonJS), beside Python steps.

exports.handler = async (event) => {
  const issue = event.issue || {};
  const branch = event.branch || `feature/${issue.id}`;
  const answer = await fetch(`${process.env.INBOX_URL}/git`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'branch created', branch }),
  });
  if (!answer.ok) {
    throw new Error(`the inbox answered ${answer.status}`);
  }
  return { ...event, branch };
};
