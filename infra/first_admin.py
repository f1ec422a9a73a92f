"""The operator's one command for a new practice (`make first-admin STAGE=prod ORGANIZATION=acme
EMAIL=lead@acme.example`): the organization's record and its first admin, who may work at
every clinic of it. Cognito emails the admin a temporary password; at the site they choose
a password, set up their authenticator, create the clinics and invite the rest of the staff.

Finds the stack's user pool and table in `cdk-outputs-<stage>.json` (written by `make deploy`).
Running it again finishes a run that was cut short and changes nothing after one that worked."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def default_username(email: str) -> str:
    """The part of the address before the @, as a username the pool takes (not an email)."""
    return re.sub(r"[^a-z0-9._-]", "-", email.split("@", 1)[0].lower()).strip("-._")[:40]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--organization", required=True, help="the practice's id: 3 to 40 lower-case letters, digits, dashes")
    parser.add_argument("--email", required=True, help="where Cognito sends the admin's temporary password")
    parser.add_argument("--username", help="the admin's username (default: the email's part before the @)")
    parser.add_argument("--name", help="the practice's name (default: its id)")
    parser.add_argument("--given-name", default="Practice")
    parser.add_argument("--family-name", default="Admin")
    parser.add_argument("--outputs", type=Path, help="the outputs file of `make deploy` (default cdk-outputs-<stage>.json)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(FUNCTIONS))
    import boto3
    from clinic.composition import operator_staff
    from clinic.domain.errors import DomainError
    from clinic.domain.tenancy import Reach
    from clinic.usecases.kernel import Actor
    from pydantic import ValidationError

    outputs_file = args.outputs or Path(f"cdk-outputs-{args.stage}.json")
    try:
        outputs = json.loads(outputs_file.read_text())[f"KetamineClinic-{args.stage}"]
        table, pool = outputs["TableName"], outputs["UserPoolId"]
    except (OSError, ValueError, KeyError):
        print(f"first-admin: no TableName and UserPoolId in {outputs_file}: run `make deploy STAGE={args.stage}` first", file=sys.stderr)
        return 2
    username = args.username or default_username(args.email)
    try:
        operator = Actor(user_id="operator", name="operator", groups=frozenset({"admin"}), reach=Reach(args.organization))
        staff = operator_staff(boto3.session.Session(), table, pool, args.organization)
        staff.create_organization(args.name or args.organization)
        staff.invite(
            operator, invite_id="first-admin", username=username, email=args.email, given_name=args.given_name,
            family_name=args.family_name, role="admin", clinics=None,
        )
    except ValidationError as invalid:
        fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in invalid.errors())
        print(f"first-admin: refused: check {fields}", file=sys.stderr)
        return 2
    except DomainError as refused:
        print(f"first-admin: refused: {refused.message}", file=sys.stderr)
        return 1
    print(f"first-admin: organization {args.organization} with admin {username} (every clinic); Cognito emailed the temporary password")
    return 0


if __name__ == "__main__":
    sys.exit(main())
