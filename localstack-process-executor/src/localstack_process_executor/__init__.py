"""A LocalStack Lambda runtime executor that runs execution environments as local processes."""
