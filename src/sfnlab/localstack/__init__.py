"""LocalStack as a process: its own virtualenv, the embedded LocalStack started in host
mode, what answers at the endpoint, its log as the learner reads it, a smoke test."""
