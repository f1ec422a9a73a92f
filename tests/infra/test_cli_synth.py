"""`cdk synth` the way an operator runs it: the CDK CLI pinned in package.json, cdk.json's
app command, an account and region set (the CLI always sets the region, and the account
once credentials exist), and the README's deploy flags; then cfn-lint on each template."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules/.bin/cdk"
CFN_LINT = ROOT / ".venv/bin/cfn-lint"
# Warnings cfn-lint gives on what CDK itself writes, each with why it stays.
ACCEPTED_WARNINGS = {
    "W3005": "CDK adds DependsOn on a function's role next to the GetAtt of it (the policy must exist before "
    "the function is created); redundant for CloudFormation, harmless.",
}


def readme_deploy_flags(stage: str) -> list[str]:
    """The `-c` flags of the README's `make deploy STAGE=<stage> ARGS="..."` line."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if not line.startswith("make deploy STAGE="):
            continue
        words = shlex.split(line.split("#")[0])
        if words[:3] == ["make", "deploy", f"STAGE={stage}"]:
            args = next((w for w in words if w.startswith("ARGS=")), "ARGS=")
            return shlex.split(args.removeprefix("ARGS="))
    raise AssertionError(f"the README has no `make deploy STAGE={stage}` line")


def cli_synth(stage: str, flags: list[str], out: Path) -> dict:
    environment = {
        # No credentials: the CLI would ask STS for the account (and set CDK_DEFAULT_ACCOUNT itself).
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_REGION": "eu-west-1",
        "CDK_DEFAULT_ACCOUNT": "111111111111",
        "CDK_DEFAULT_REGION": "eu-west-1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        # CloudFormation's schema check inside synth is the slow part; cfn-lint checks the same and more.
        "CDK_VALIDATION": "false",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    command = [str(CDK), "synth", "--quiet", "--no-notices", "-o", str(out), "-c", f"stage={stage}", *flags]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240)
    print(f"$ {shlex.join(command[1:])}  -> exit {result.returncode}")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Validation failed" not in result.stderr and "ERROR" not in result.stderr, result.stderr[-4000:]
    assert "Acknowledge with" not in result.stderr, result.stderr[-4000:]  # no warning left unanswered either
    return json.loads((out / f"KetamineClinic-{stage}.template.json").read_text())


def cfn_lint(template: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(template)], capture_output=True, text=True, timeout=240
    )
    findings = json.loads(result.stdout or "[]")
    by_level: dict[str, list[str]] = {"Error": [], "Warning": [], "Informational": []}
    for finding in findings:
        by_level[finding["Level"]].append(f"{finding['Rule']['Id']} {finding['Message']}")
    return by_level


def rendered(value: dict) -> str:
    """A deploy-time value as text: Fn::Join's parts, references as ${LogicalId}."""
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + ".".join([p["Ref"]] if "Ref" in p else p["Fn::GetAtt"]) + "}" for p in parts)


def client_config(template: dict, out: Path) -> dict:
    """The web client's /config.json as the deployment writes it: the staged file, its deploy-time
    markers shown as the template values that replace them."""
    (deployment,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::CDKBucketDeployment"]
    for key, markers in zip(deployment["SourceObjectKeys"], deployment["SourceMarkers"], strict=True):
        file = out / f"asset.{key.removesuffix('.zip')}" / "config.json"
        if file.exists():
            text = file.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, rendered(value))  # each marker stands for a JSON string, quotes included
            return json.loads(text)
    raise AssertionError("no config.json among the site deployment's sources")


@pytest.mark.xdist_group("cdk-cli")
def test_the_pinned_cli_synthesizes_both_stages_with_an_account_and_region_and_cfn_lint_finds_no_error(
    tmp_path: Path,
) -> None:
    assert json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"] == "2.1149.0"
    assert json.loads((ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python app.py"
    for stage in ("dev", "prod"):
        out = tmp_path / stage
        template = cli_synth(stage, readme_deploy_flags(stage), out)
        assert template["Resources"]
        assert "eu-west-1" in json.dumps(template) and "111111111111" in json.dumps(template)  # both reached the app
        config = client_config(template, out)
        print(f"{stage}: /config.json {json.dumps(config)}")
        assert config.keys() == {"apiUrl", "region", "userPoolId", "userPoolClientId"}  # web/config.js's contract
        assert config["region"] == "eu-west-1" and config["apiUrl"].startswith("https://${ApiRestApi")
        assert config["userPoolId"].startswith("${IdentityUserPool") and config["userPoolClientId"].startswith("${IdentityUserPoolWebClient")
        lint = cfn_lint(out / f"KetamineClinic-{stage}.template.json")
        counts = {level: len(found) for level, found in lint.items()}
        print(f"{stage}: {len(template['Resources'])} resources; cfn-lint {counts}")
        for warning in lint["Warning"]:
            print(f"  accepted {warning[:160]}")
        assert lint["Error"] == []
        assert {w.split()[0] for w in lint["Warning"]} <= ACCEPTED_WARNINGS.keys(), lint["Warning"]
