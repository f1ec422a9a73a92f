"""`make run`: the clinic service on http://127.0.0.1:8000 with an embedded AWS (moto)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from .identity import DEMO_PASSWORD, DEMO_USERS
from .server import LocalService


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    parser.add_argument("--no-seed", action="store_true", help="start without the demo clinic and patients")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="run the care workflow's clock this many times faster (60: an hour a minute)"
    )
    args = parser.parse_args()

    service = LocalService(port=args.port, seed=not args.no_seed, speed=args.speed).start()
    print(f"Day board:    {service.url}/  (sign in as {', '.join(f'{name} ({user.role}, {user.organization})' for name, user in DEMO_USERS.items())};")
    print(f"              password {DEMO_PASSWORD}; the first sign-in sets up two-step sign-in:")
    print("              scan the QR code with an authenticator app, or type the key it shows)")
    print(f"Outbox:       {service.url}/outbox  (texts and pages with their links; the clock's fast-forward)")
    print(f"API explorer: {service.url}/docs  (OpenAPI document: {service.url}/openapi.json)")
    print(f"Clinic API:   {service.url}  (for curl: POST /local/sign-in {{\"username\", \"password\"}} gives a token)")
    print(f"Local AWS:    {os.environ['AWS_ENDPOINT_URL']}  (moto; invite staff with aws cognito-idp admin-create-user)")
    print(f"Workflows:    executed, clock at {args.speed:g}x real time")
    print("Stop with Ctrl-C.")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        print("Stopped.")


if __name__ == "__main__":
    main()
