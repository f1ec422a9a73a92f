"""The service on one machine: moto stands in for AWS, built from the synthesized template.
Used by `make run` and by the tests, so both exercise what `cdk deploy` would create."""
