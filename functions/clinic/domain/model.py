"""The base of every domain record: camelCase in JSON, immutable once made.

Schemas are built on first use (`defer_build`): a Lambda cold start pays only for the
records its request touches, not for every model the package defines."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters such as line breaks or tabs")
    return value


# A name is one line of printable text: it is shown on the board, in lists and in exports.
Name = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_printable)]
PersonName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_printable)]


class Record(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)


class StrictRecord(Record):
    """A record that refuses fields it does not know (configuration, requests)."""

    model_config = ConfigDict(extra="forbid")
