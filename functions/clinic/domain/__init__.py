"""Clinical and scheduling rules. Pure Python: no boto3, no I/O."""
