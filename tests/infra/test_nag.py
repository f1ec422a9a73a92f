"""The one synthesis with validation on: cdk-nag AwsSolutions and HIPAA Security packs."""

from __future__ import annotations

from local.template import synthesized


def test_synth_passes_cdk_nag_with_every_finding_acknowledged() -> None:
    # Synth raises ValidationFailed on any unacknowledged error; reaching the template is the pass.
    template = synthesized(validate=True)
    assert template.get("Resources")


def test_an_unacknowledged_finding_fails_synth() -> None:
    """The check above can fail: an unencrypted, unrecoverable table is refused."""
    import pytest
    from aws_cdk import App, Stack
    from aws_cdk import aws_dynamodb as dynamodb

    from infra import nag

    app = App()
    stack = Stack(app, "Careless")
    dynamodb.Table(stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    nag.check(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
