"""`make first-admin` against the local stack (moto): the organization's record and its first
admin, who signs in with the temporary password Cognito emailed and manages the practice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from local.identity import temporary_password

from infra.first_admin import main
from tests.support.world import World, org_key

NEW_PASSWORD = "Chosen-Password-2?"


@pytest.fixture
def outputs(world: World, tmp_path: Path) -> Path:
    """What `make deploy` writes, for the local stack."""
    path = tmp_path / "cdk-outputs-dev.json"
    stack = {"TableName": world.table_name, "UserPoolId": world.deployment.user_pool.user_pool_id}
    path.write_text(json.dumps({"KetamineClinic-dev": stack}))
    return path


def command(outputs: Path, *more: str) -> int:
    return main(["--stage", "dev", "--outputs", str(outputs), "--organization", "acme", "--email", "lead@acme.example", *more])


def test_the_command_makes_the_organization_and_its_admin_who_signs_in_and_manages_staff(world: World, outputs: Path, capsys) -> None:
    assert command(outputs, "--name", "Acme Clinics") == 0
    assert capsys.readouterr().out.strip().endswith("organization acme with admin lead (every clinic); Cognito emailed the temporary password")
    keys = {(item["pk"]["S"], item["sk"]["S"]) for item in world.items()}
    assert {(org_key("ORGANIZATION", "acme"), "PROFILE"), (org_key("STAFF", "acme"), "USER#lead")} <= keys

    claims = world.sign_in("lead", temporary_password(world.deployment.user_pool.user_pool_id, "lead"), NEW_PASSWORD)
    assert (claims["cognito:groups"], claims["custom:organization"], claims["custom:clinics"]) == (["admin"], "acme", "*")
    staff = world.call("GET", "/staff", claims=claims)
    assert [(m["username"], m["role"], m["clinics"]) for m in staff.body["staff"]] == [("lead", "admin", ["*"])]
    assert world.call("GET", "/staff", role="admin").body == {"staff": []}  # another practice sees none of it

    before = world.items()
    assert command(outputs, "--name", "Acme Clinics") == 0  # again: nothing new
    assert world.items() == before


def test_a_bad_organization_id_or_a_missing_stack_is_refused_before_anything_is_written(world: World, outputs: Path, capsys) -> None:
    before = world.items()
    assert main(["--outputs", str(outputs), "--organization", "Acme Inc", "--email", "lead@acme.example"]) == 1
    assert "an organization id is 3 to 40 lower-case letters" in capsys.readouterr().err
    assert main(["--outputs", str(outputs.with_name("none.json")), "--organization", "acme", "--email", "a@b.example"]) == 2
    assert "run `make deploy STAGE=dev` first" in capsys.readouterr().err
    assert world.items() == before
