"""The care workflow's Lambda handler: each Step Functions task goes to usecases/care_workflow.py."""
