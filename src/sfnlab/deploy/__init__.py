"""Deploying the exercise: the definition made concrete, the Lambdas' code, the IAM roles,
the state machine (`resources.deploy`), what was deployed remembered for `sfnlab up`, and
the same as a CloudFormation/SAM stack (`stack.deploy_stack`)."""
