"""Finding a patient as the front desk types them, and who might already be registered.

A search is one of three kinds, told apart by its shape: a birth date (YYYY-MM-DD), a phone
number (digits, with any of `+ ( ) - .` and spaces), or else a name. A name matches by
prefix on its normalized form (case-folded, accents and apostrophes dropped, any other
punctuation a space) in two orders, "given family" and "family given": so the given name,
the family name, or "family given" as a list prints it. A phone matches by its last digits,
however much of the country code is typed: its key is the digits last first."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .errors import InvalidRequest
from .patients import Patient, PatientDetails

BIRTH_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PHONE_TYPED = re.compile(r"^[\d\s()+.-]+$")
DROPPED = re.compile(r"['\u2019]")  # O'Brien is "obrien", typed with or without the apostrophe
SEPARATORS = re.compile(r"[^\w]+|_")
MIN_NAME_LETTERS = 2
MIN_PHONE_DIGITS = 4
# A name's key is cut to this many UTF-8 bytes: normalizing can make one character many (a
# ligature, a Hangul syllable), and DynamoDB refuses a sort key over 1024 bytes. Searches are
# cut the same way, so a prefix still finds its name.
NAME_KEY_BYTES = 300


class SearchBy(StrEnum):
    NAME = "NAME"
    BIRTH_DATE = "BIRTH"
    PHONE = "PHONE"


@dataclass(frozen=True)
class SearchTerm:
    """What an index entry's key starts with: its kind, then the normalized value."""

    by: SearchBy
    value: str


def normalize_name(text: str) -> str:
    """"Zoë  O'Brien-Núñez" -> "zoe obrien nunez"."""
    decomposed = unicodedata.normalize("NFKD", DROPPED.sub("", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(SEPARATORS.sub(" ", bare).split())


def phone_key(text: str) -> str:
    """A phone number's digits, last first: a prefix of this key is an ending of the number."""
    return "".join(c for c in text if c.isdigit())[::-1]


def search_term(query: str) -> SearchTerm:
    """The index entries a typed search looks for; a 422 on `text` says what to type, never
    repeating what was typed."""
    text = query.strip()
    if BIRTH_DATE.match(text):
        try:
            return SearchTerm(SearchBy.BIRTH_DATE, date.fromisoformat(text).isoformat())
        except ValueError:
            raise InvalidRequest("text", "is not a real date: write a birth date as YYYY-MM-DD") from None
    if PHONE_TYPED.match(text):
        digits = phone_key(text)
        if len(digits) < MIN_PHONE_DIGITS:
            raise InvalidRequest("text", f"give at least {MIN_PHONE_DIGITS} digits of the phone number")
        return SearchTerm(SearchBy.PHONE, digits)
    name = normalize_name(text)
    if len(name.replace(" ", "")) < MIN_NAME_LETTERS:
        raise InvalidRequest("text", f"give at least {MIN_NAME_LETTERS} letters of the name, a birth date (YYYY-MM-DD) or a phone number")
    return SearchTerm(SearchBy.NAME, _name_key(name))


def _name_key(name: str) -> str:
    return name.encode()[:NAME_KEY_BYTES].decode(errors="ignore")


def index_terms(patient: PatientDetails) -> list[SearchTerm]:
    """The index entries a patient is found by, each once (a given name equal to the family
    name gives one name entry)."""
    given, family = normalize_name(patient.given_name), normalize_name(patient.family_name)
    terms = [SearchTerm(SearchBy.NAME, _name_key(f"{given} {family}")), SearchTerm(SearchBy.NAME, _name_key(f"{family} {given}"))]
    terms.append(SearchTerm(SearchBy.BIRTH_DATE, patient.birth_date.isoformat()))
    if patient.phone:
        terms.append(SearchTerm(SearchBy.PHONE, phone_key(patient.phone)))
    return list(dict.fromkeys(terms))


def duplicate_lookups(details: PatientDetails) -> list[SearchTerm]:
    """Where a possible duplicate of `details` is indexed: its birth date and its phone."""
    return [term for term in index_terms(details) if term.by is not SearchBy.NAME]


def same_person(details: PatientDetails, existing: Patient) -> bool:
    """Possibly the same person: the same normalized name and birth date, or the same phone."""
    same_name = normalize_name(f"{details.family_name} {details.given_name}") == normalize_name(
        f"{existing.family_name} {existing.given_name}"
    )
    same_phone = details.phone is not None and details.phone == existing.phone
    return (same_name and details.birth_date == existing.birth_date) or same_phone


def by_name(patients: list[Patient]) -> list[Patient]:
    """Search results as a list reads: family name, given name, birth date."""
    return sorted(patients, key=lambda p: (normalize_name(p.family_name), normalize_name(p.given_name), p.birth_date))
