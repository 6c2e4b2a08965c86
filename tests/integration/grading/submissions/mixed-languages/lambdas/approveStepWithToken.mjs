// The approve Lambda in JavaScript, an ES module importing the AWS SDK the runtime gives.

import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';

const stepFunctions = new SFNClient({});

export async function handler(event) {
  const decision = {
    approved: event.approve === true,
    summary: `${event.approve === true ? 'Approved' : 'Rejected'} by ${event.reviewer}`,
  };
  await stepFunctions.send(
    new SendTaskSuccessCommand({ taskToken: event.token, output: JSON.stringify(decision) }),
  );
  return { ...event, decision };
}
