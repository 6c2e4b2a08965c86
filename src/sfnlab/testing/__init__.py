"""What the kit's test suite, its plugins' tests and the benchmarks share; the kit itself
never imports it.

Two pytest plugins, which pyproject.toml loads for the suite: `fixtures` (one LocalStack
per test process, its clients, a factory of Lambda functions) and `groups` (the suite's
groups: one worker each, in parallel, each group timed). Plain helpers beside them:
`settings` (a LocalStack of a test's own), `functions` (zips and invocations),
`servers` (small local web servers), `waiting` and `submissions` (the class of learners'
submissions the grader is tested on).
"""
