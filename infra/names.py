"""Names for resources a deleted stack keeps (a log group WAF requires by name, the backup
vault): a fixed name would collide when the stack is created again, so each carries a part
of the stack's id, which CloudFormation makes anew for every creation."""

from __future__ import annotations

from aws_cdk import Aws, Fn


def per_creation(prefix: str) -> str:
    """`prefix` and the first 8 hex digits of the stack id's UUID (arn:...:stack/<name>/<uuid>)."""
    uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.join("-", [prefix, Fn.select(0, Fn.split("-", uuid))])
