#!/bin/sh
# Runs inside the LocalStack container once it is ready (mounted by docker-compose.yml).
# Lambdas run in containers on the compose network and reach the inbox by its service
# name, which the kit on the host cannot know: publish it where `sfnlab deploy` looks.
awslocal ssm put-parameter --overwrite --type String \
  --name /sfnlab/lambda-inbox-url --value http://inbox:4567
