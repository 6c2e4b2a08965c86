"""Small support every concern uses: boto3 clients for the target, waiting by polling,
progress on standard error, background processes, ports."""
