"""What the functions would ship to CloudWatch: every record of their loggers, at DEBUG,
formatted by the same formatter Lambda would run."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from clinic.api import app as api_app
from clinic.workflow import handler as workflow_handler

# Module loggers of the clinic package (clinic.waitlist, ...) write through Lambda's root handler.
PACKAGE_LOGGER = "clinic"


class CapturedLogs:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def records(self) -> list[dict[str, Any]]:
        """The structured records (Powertools' JSON lines)."""
        found = []
        for line in self.lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found


class _Recorder(logging.Handler):
    def __init__(self, into: CapturedLogs, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.lines.append(self.format(record))


@contextmanager
def captured_logs() -> Iterator[CapturedLogs]:
    """Turns both functions' loggers and the package's to DEBUG and records what they emit."""
    captured = CapturedLogs()
    powertools = [(logger, logger.log_level, _Recorder(captured, logger.registered_formatter))
                  for logger in (api_app.logger, workflow_handler.logger)]
    package = logging.getLogger(PACKAGE_LOGGER)
    package_level = package.level
    plain = _Recorder(captured, logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    for logger, _, recorder in powertools:
        logger.addHandler(recorder)
        logger.setLevel("DEBUG")
    package.addHandler(plain)
    package.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        package.removeHandler(plain)
        package.setLevel(package_level)
        for logger, level, recorder in powertools:
            logger.removeHandler(recorder)
            logger.setLevel(level)
