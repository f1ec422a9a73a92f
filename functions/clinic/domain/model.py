"""The base of every domain record: camelCase in JSON, immutable once made.

Schemas are built on first use (`defer_build`): a Lambda cold start pays only for the
records its request touches, not for every model the package defines."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Record(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)


class StrictRecord(Record):
    """A record that refuses fields it does not know (configuration, requests)."""

    model_config = ConfigDict(extra="forbid")
