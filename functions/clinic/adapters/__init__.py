"""AWS access: the only code that imports boto3."""
