"""The care workflow's task steps, run by the Step Functions state machine."""
