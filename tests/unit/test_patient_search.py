"""Patient search terms: a name normalized as the desk might type it, a birth date, a phone's
last digits; and who may be the same person as a new registration."""

from __future__ import annotations

import pytest
from clinic.domain.errors import InvalidRequest
from clinic.domain.patient_search import (
    SearchBy,
    SearchTerm,
    by_name,
    duplicate_lookups,
    index_terms,
    normalize_name,
    same_person,
    search_term,
)
from clinic.domain.patients import EmergencyContact, Patient, PatientDetails

CONTACT = EmergencyContact(name="Kin", phone="+15555550101")


def details(given: str = "Zoë", family: str = "O'Brien-Núñez", born: str = "1980-04-02", phone: str | None = "+15555550100") -> PatientDetails:
    return PatientDetails(given_name=given, family_name=family, birth_date=born, phone=phone, email=None if phone else "z@example.org", emergency_contact=CONTACT)


def patient(patient_id: str = "p1", **changes: str | None) -> Patient:
    return Patient(patient_id=patient_id, **details(**changes).model_dump())


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Zoë  O'Brien-Núñez", "zoe obrien nunez"),
        ("ZOE O\u2019BRIEN", "zoe obrien"),
        ("Rivera, Alex", "rivera alex"),
        ("Straße", "strasse"),
        ("José\u0301", "jose"),
        ("  x_y ", "x y"),
    ],
)
def test_a_name_is_case_folded_with_accents_apostrophes_and_punctuation_gone(typed: str, normalized: str) -> None:
    assert normalize_name(typed) == normalized


def test_a_patient_is_indexed_by_both_name_orders_birth_date_and_phone_last_digits_first() -> None:
    assert index_terms(details()) == [
        SearchTerm(SearchBy.NAME, "zoe obrien nunez"),
        SearchTerm(SearchBy.NAME, "obrien nunez zoe"),
        SearchTerm(SearchBy.BIRTH_DATE, "1980-04-02"),
        SearchTerm(SearchBy.PHONE, "00105555551"),
    ]


def test_a_name_that_normalizes_long_is_keyed_by_its_first_300_bytes_and_found_by_typing_it_whole() -> None:
    ligatures, hangul = "\ufdfa" * 20, "\ud7a3" * 80  # 18 letters each; 3 jamo of 3 bytes each
    for given, family in ((ligatures, ligatures), (hangul, hangul)):
        names = [term for term in index_terms(details(given=given, family=family)) if term.by is SearchBy.NAME]
        assert names and all(0 < len(term.value.encode()) <= 300 for term in names)
        typed = search_term(f"{given} {family}")
        assert len(typed.value.encode()) <= 300 and names[0].value.startswith(typed.value)
        assert names[0].value.startswith(search_term(given[:3]).value)


def test_a_name_that_reads_the_same_both_ways_is_indexed_once_and_no_phone_no_phone_entry() -> None:
    terms = index_terms(details(given="Lee", family="Lee", phone=None))
    assert terms == [SearchTerm(SearchBy.NAME, "lee lee"), SearchTerm(SearchBy.BIRTH_DATE, "1980-04-02")]


@pytest.mark.parametrize(
    ("typed", "term"),
    [
        ("1980-04-02", SearchTerm(SearchBy.BIRTH_DATE, "1980-04-02")),
        ("+1 (555) 555-0100", SearchTerm(SearchBy.PHONE, "00105555551")),
        ("0100", SearchTerm(SearchBy.PHONE, "0010")),
        (" o'brien ", SearchTerm(SearchBy.NAME, "obrien")),
        ("O Brien", SearchTerm(SearchBy.NAME, "o brien")),
        ("Zo", SearchTerm(SearchBy.NAME, "zo")),
    ],
)
def test_a_search_is_a_birth_date_a_phone_or_a_name_by_its_shape(typed: str, term: SearchTerm) -> None:
    assert search_term(typed) == term


def test_every_index_name_form_starts_with_what_the_desk_types() -> None:
    keys = [t.value for t in index_terms(details()) if t.by is SearchBy.NAME]
    for typed in ("zoe", "ZOË O'BRIEN", "obrien", "O'Brien-Núñez, Zoë", "obrien nunez z"):
        assert any(key.startswith(search_term(typed).value) for key in keys), typed


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1980-02-30", "is not a real date"),
        ("555", "at least 4 digits"),
        ("z", "at least 2 letters"),
        ("  ", "at least 2 letters"),
        ("--", "at least 4 digits"),
    ],
)
def test_a_search_too_short_or_not_a_date_names_the_field_and_never_repeats_it(typed: str, problem: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        search_term(typed)
    assert refused.value.field == "text"
    assert problem in refused.value.message
    assert typed.strip() not in refused.value.message or not typed.strip()


def test_a_possible_duplicate_has_the_same_name_and_birth_date_or_the_same_phone() -> None:
    new = details(given="zoe", family="OBRIEN NUNEZ", phone="+15555550999")
    assert same_person(new, patient())  # same name, written otherwise, and birth date
    assert not same_person(new, patient(born="1981-04-02"))  # another birth date
    assert same_person(details(given="Sam", family="Other", born="1999-01-01"), patient())  # same phone
    assert not same_person(details(given="Sam", family="Other", phone=None), patient())
    assert duplicate_lookups(new) == [SearchTerm(SearchBy.BIRTH_DATE, "1980-04-02"), SearchTerm(SearchBy.PHONE, "99905555551")]


def test_matches_are_listed_by_family_then_given_name_then_birth_date() -> None:
    found = [patient("a", given="Bea", family="Zed"), patient("b", given="Al", family="Ávila", born="1990-01-01"),
             patient("c", given="Al", family="Avila")]
    assert [p.patient_id for p in by_name(found)] == ["c", "b", "a"]
