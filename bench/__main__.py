"""The benchmark: AWS calls per API operation, the cost of one session's workflow, how the
hot reads scale, cold-start imports and local throughput. Measured on moto; prints a table
and writes bench/results.json. Run with `make bench` (not part of the tests' pass/fail)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)

# Public list prices, us-east-1, on-demand (checked 2026-11): the assumptions of the cost line.
PRICES = {
    "step_functions_per_transition": 0.025 / 1000,
    "lambda_per_request": 0.20 / 1_000_000,
    "lambda_per_gb_second": 0.0000166667,
    "dynamodb_per_write_unit": 0.625 / 1_000_000,
    "dynamodb_per_read_unit": 0.125 / 1_000_000,
}
LAMBDA_MEMORY_GB = 0.5
LAMBDA_BILLED_MS = 100  # per invocation, assumed: the steps are short DynamoDB/SNS calls


def main() -> None:
    results: dict[str, Any] = {"cores": os.cpu_count()}
    started = time.perf_counter()
    results["calls"] = api_calls()
    results["workflow"] = workflow_cost()
    results["scaling"] = scaling()
    results["cold_start"] = cold_start()
    results["throughput"] = throughput()
    results["seconds"] = round(time.perf_counter() - started, 1)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)


# --- 1. AWS calls per operation -------------------------------------------------------------
def api_calls() -> dict[str, dict[str, int]]:
    import pytest
    from moto import mock_aws

    from local import calls
    from local.template import synthesized
    from tests.support.world import CHECKLIST, CLINIC, World, at, clinic_day, dose_body

    calls.install()
    day = clinic_day(0)
    found: dict[str, dict[str, int]] = {}
    patch = pytest.MonkeyPatch()
    with mock_aws():
        world = World(synthesized(), patch)
        world.set_up_clinic()
        from clinic.usecases import kernel

        clock = {"now": at(day + timedelta(days=-1), 9)}
        patch.setattr(kernel, "utc_now", lambda: clock["now"])
        patient = world.register_patient()
        query = {"date": day.isoformat(), "sessionType": "spravato"}

        def measured(name: str, action: Callable[[], Any]) -> None:
            with calls.counting() as counted:
                reply = action()
            assert reply.status in (200, 201), (name, reply.body)
            found[name] = dict(sorted(counted.calls.items()))

        world.call("GET", f"/clinics/{CLINIC}/availability", query=query)  # warm: configuration cached
        measured("availability", lambda: world.call("GET", f"/clinics/{CLINIC}/availability", query=query))
        measured("day board", lambda: world.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()}))
        booked = {}

        def book() -> Any:
            reply = world.book(patient["patientId"], at(day, 10), key="bench-booking")
            booked.update(reply.body)
            return reply

        measured("book", book)
        path = f"/appointments/{booked['appointmentId']}"
        measured("reschedule", lambda: world.call("POST", f"{path}/reschedule", {"start": at(day, 11).isoformat()}))
        clock["now"] = at(day, 10, 50)
        measured("check-in", lambda: world.call("POST", f"{path}/check-in"))
        clock["now"] = at(day, 11)
        world.call("POST", f"{path}/dose", dose_body(at(day, 11)), role="clinician")
        vitals = {"bloodPressure": {"systolic": 130, "diastolic": 84}}
        measured(
            "record vitals",
            lambda: world.call("POST", f"{path}/vitals", vitals, role="clinician", headers={"Idempotency-Key": "bench-vitals"}),
        )
        clock["now"] = at(day, 13, 5)
        measured("discharge", lambda: world.call("POST", f"{path}/discharge", {"checklist": CHECKLIST}, role="clinician"))
        other = world.book(patient["patientId"], at(day + timedelta(days=2), 10), key="bench-to-cancel").body
        measured(
            "cancel",
            lambda: world.call("POST", f"/appointments/{other['appointmentId']}/cancel", {"reason": "benchmark"}),
        )
        token = _open_survey(world, booked["appointmentId"], clock["now"])
        answers = {"token": token, "instrument": "phq-9", "answers": {f"phq9-{n}": 1 for n in range(1, 10)}}
        measured("survey submit", lambda: world.call("POST", "/public/surveys/answers", answers, role=None))
    patch.undo()
    return found


def _open_survey(world: Any, appointment_id: str, now: Any) -> str:
    """A follow-up parked the way the workflow parks it, and its link's token."""
    import boto3
    from clinic.adapters.dynamodb import DynamoRepository
    from clinic.domain.followups import open_follow_up
    from clinic.domain.links import Link, LinkKind, digest, new_token
    from clinic.domain.rules import CareRules
    from clinic.domain.tenancy import Reach

    from tests.support.world import ORGANIZATION

    repository = DynamoRepository(boto3.resource("dynamodb").Table(world.table_name), Reach(ORGANIZATION))
    appointment = repository.get_appointment(appointment_id)
    follow_up = open_follow_up(
        appointment_id=appointment_id, run=1, number=1, clinic_id=appointment.clinic_id, patient_id=appointment.patient_id,
        hours_after=24, instruments=["phq-9"], now=now, care=CareRules(),
    )
    repository.save_follow_up(None, follow_up.model_copy(update={"task_token": "a-parked-execution"}))
    token = new_token(ORGANIZATION)
    link = Link(digest=digest(token), kind=LinkKind.SURVEY, appointment_id=appointment_id, run=1, follow_up=1, valid_until=follow_up.valid_until)
    repository.save_link(link)
    return token


# --- 2. One session's workflow --------------------------------------------------------------
def workflow_cost() -> dict[str, Any]:
    import pytest
    from clinic.usecases import kernel
    from moto import mock_aws

    from local import calls
    from local.stepfunctions import ManualClock, in_process_lambdas, stop_all, virtual_time
    from local.template import synthesized
    from tests.workflow.conftest import NOW, CareWorld
    from tests.workflow.journeys import full_session, session_cost

    calls.install()
    patch = pytest.MonkeyPatch()
    clock = ManualClock(NOW)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), virtual_time(clock), in_process_lambdas():
        patch.setattr(kernel, "utc_now", clock.now)
        care = CareWorld(synthesized(), patch, clock)
        with calls.counting() as counted:
            appointment = full_session(care)
        transitions, invocations = session_cost(care, appointment)
        stop_all(care.sfn)
    patch.undo()
    dynamodb = {k: v for k, v in counted.calls.items() if k.startswith("dynamodb.")}
    writes = sum(v * (2 if k.endswith("TransactWriteItems") else 1) for k, v in dynamodb.items() if _is_write(k))
    reads = sum(v for k, v in dynamodb.items() if not _is_write(k))
    cost = {
        "step_functions": transitions * PRICES["step_functions_per_transition"],
        "lambda": invocations
        * (PRICES["lambda_per_request"] + LAMBDA_MEMORY_GB * LAMBDA_BILLED_MS / 1000 * PRICES["lambda_per_gb_second"]),
        "dynamodb": writes * PRICES["dynamodb_per_write_unit"] + reads * PRICES["dynamodb_per_read_unit"],
    }
    return {
        "transitions": transitions,
        "lambda_invocations": invocations,
        "dynamodb_calls": dict(sorted(dynamodb.items())),
        "cost_usd": {k: round(v, 8) for k, v in cost.items()} | {"total": round(sum(cost.values()), 8)},
        "assumptions": {
            "prices": PRICES,
            "lambda_memory_gb": LAMBDA_MEMORY_GB,
            "lambda_billed_ms_per_invocation": LAMBDA_BILLED_MS,
            "dynamodb": "1 unit per call (items under 1 KB), transactions 2 units per call; every call of the "
            "session counted, the API routes' included",
        },
    }


def _is_write(call: str) -> bool:
    return call.split(".")[1] in {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


# --- 3. Scaling -----------------------------------------------------------------------------
def scaling() -> dict[str, Any]:
    """Day board and availability for a clinic day of 10, 100 and 1,000 appointments, and for
    100 with a much bigger clinic in the same table. moto answers a Query by walking the
    whole table in Python, so the total is mostly moto's; the handler's own time and the
    items DynamoDB would read are what the design decides."""
    import pytest
    from moto import mock_aws

    from local.template import synthesized
    from tests.support.world import CLINIC, ORGANIZATION, World, clinic_day

    from .seed import seed_day

    day = clinic_day(3)
    rows: dict[str, Any] = {}
    patch = pytest.MonkeyPatch()
    for size, runs in ((10, 15), (100, 10), (1000, 3)):
        with mock_aws():
            world = World(synthesized(), patch)
            world.checks_replies = False  # time the handler, not the tests' schema check
            seed_day(world, CLINIC, day, size, ORGANIZATION)
            rows[f"{size} appointments"] = _latencies(world, day, runs)
            if size == 100:
                seed_day(world, "bigger-clinic", day, 1000, ORGANIZATION)
                rows["100, another clinic's 1,000 in the table"] = _latencies(world, day, runs)
    patch.undo()
    return rows


def _latencies(world: Any, day: Any, runs: int) -> dict[str, Any]:
    from local import calls
    from tests.support.world import CLINIC

    calls.install()
    routes = {
        "day board": ("GET", f"/clinics/{CLINIC}/board", {"date": day.isoformat()}),
        "availability": ("GET", f"/clinics/{CLINIC}/availability", {"date": day.isoformat(), "sessionType": "spravato"}),
    }
    measured: dict[str, Any] = {}
    for name, (method, path, query) in routes.items():
        world.call(method, path, query=query)  # warm
        totals, own = [], []
        for _ in range(runs):
            with calls.counting() as tally:
                began = time.perf_counter()
                reply = world.call(method, path, query=query)
                elapsed = time.perf_counter() - began
            assert reply.status == 200, reply.body
            totals.append(elapsed * 1000)
            own.append((elapsed - tally.seconds) * 1000)
        measured[name] = {
            "median_ms": round(statistics.median(totals), 1),
            "p95_ms": round(_p95(totals), 1),
            "handler_median_ms": round(statistics.median(own), 1),
            "handler_p95_ms": round(_p95(own), 1),
            "queries": sum(tally.calls.values()),
            "items_read": tally.items_read,
        }
    return measured


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- 4. Cold start --------------------------------------------------------------------------
def cold_start(runs: int = 5) -> dict[str, Any]:
    # Peak memory from /proc (VmHWM, kB): ru_maxrss would include the forking parent's.
    probe = (
        "import sys, time; sys.path[:0] = {paths!r}; began = time.perf_counter(); "
        "import importlib; importlib.import_module({module!r}); elapsed = time.perf_counter() - began; "
        "peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')); "
        "print(elapsed, peak)"
    )
    # As in Lambda: tracing on (the X-Ray SDK is imported), a function name set.
    environment = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    environment["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
    paths = [str(ROOT / "functions")]

    def measure(module: str) -> tuple[float, float]:
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", probe.format(paths=paths, module=module)],
                capture_output=True,
                text=True,
                env=environment,
                check=True,
            ).stdout.split()
            samples.append((float(out[0]) * 1000, float(out[1]) / 1024))
        return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)

    base_ms, base_mb = measure("boto3")
    rows: dict[str, Any] = {"boto3": {"import_ms": round(base_ms), "peak_mb": round(base_mb, 1)}}
    for module in ("clinic.api.app", "clinic.workflow.handler"):
        ms, mb = measure(module)
        rows[module] = {
            "import_ms": round(ms),
            "peak_mb": round(mb, 1),
            "time_ratio": round(ms / base_ms, 2),
            "memory_ratio": round(mb / base_mb, 2),
        }
    rows["asset_kb"] = round(_asset_bytes() / 1024, 1)
    return rows


def _asset_bytes() -> int:
    """The Lambda asset as CDK zips it: functions/ without caches."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in (ROOT / "functions").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                archive.write(path, path.relative_to(ROOT / "functions"))
    return len(buffer.getvalue())


# --- 5. Local throughput --------------------------------------------------------------------
def throughput(clients: int = 16, per_client: int = 3) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor
    from unittest import mock

    from local.server import LocalService

    from .seed import book_over_http, call, register, sign_in

    with mock.patch.dict(os.environ):
        service = LocalService(port=0, seed=True).start()
        try:
            token = sign_in(service, "frontdesk")
            patients = [register(service, token, client) for client in range(clients)]
            jobs = [(patients[client], client, n) for client in range(clients) for n in range(per_client)]
            with ThreadPoolExecutor(max_workers=clients) as pool:  # warm: one environment a client, as Lambda would
                list(pool.map(lambda _: call(service, token, "GET", "/clinics/demo", None), range(clients * 2)))
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                statuses = list(pool.map(lambda job: book_over_http(service, token, *job), jobs))
            elapsed = time.perf_counter() - began
        finally:
            service.stop()
    counted = Counter(statuses)
    return {
        "clients": clients,
        "bookings": len(jobs),
        "seconds": round(elapsed, 2),
        "bookings_per_second": round(counted[201] / elapsed, 1),
        "statuses": dict(counted),
        "errors": sum(v for k, v in counted.items() if k != 201),
    }


# --- report ---------------------------------------------------------------------------------
def print_report(results: dict[str, Any]) -> None:
    print(f"\nBenchmark on moto, {results['cores']} cores, {results['seconds']} s\n")
    print("AWS calls per API operation")
    for name, calls in results["calls"].items():
        total = sum(calls.values())
        listed = ", ".join(f"{k} x{v}" for k, v in calls.items()) or "-"
        print(f"  {name:<15} {total:>2}  {listed}")
    flow = results["workflow"]
    print("\nOne session's workflow (2 reminders, 2 follow-ups)")
    print(f"  state transitions {flow['transitions']}, Lambda invocations {flow['lambda_invocations']}")
    print(f"  DynamoDB calls: {sum(flow['dynamodb_calls'].values())} ({flow['dynamodb_calls']})")
    cost = flow["cost_usd"]
    print(
        f"  cost per session: ${cost['total']:.6f} (Step Functions ${cost['step_functions']:.6f}, "
        f"Lambda ${cost['lambda']:.6f}, DynamoDB ${cost['dynamodb']:.6f})"
    )
    print("\nScaling: total on moto median/p95 ms | the handler's own time median/p95 ms | AWS calls, items read")
    for setting, routes in results["scaling"].items():
        print(f"  {setting}")
        for route, v in routes.items():
            print(
                f"    {route:<13} {v['median_ms']:>7}/{v['p95_ms']:<7} | {v['handler_median_ms']:>6}/{v['handler_p95_ms']:<6} "
                f"| {v['queries']} Query, {v['items_read']} items"
            )
    cold = results["cold_start"]
    print("\nCold start (import, median of runs)")
    for module, row in cold.items():
        if module == "asset_kb":
            continue
        ratio = f" ({row['time_ratio']}x time, {row['memory_ratio']}x memory)" if "time_ratio" in row else ""
        print(f"  {module:<25} {row['import_ms']:>4} ms {row['peak_mb']:>6} MB{ratio}")
    print(f"  Lambda asset (functions/, zipped): {cold['asset_kb']} KB")
    tp = results["throughput"]
    print(
        f"\nLocal API throughput: {tp['clients']} clients, {tp['bookings']} bookings in {tp['seconds']} s: "
        f"{tp['bookings_per_second']} bookings/s, {tp['errors']} errors ({tp['statuses']})"
    )


if __name__ == "__main__":
    main()
