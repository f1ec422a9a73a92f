"""Finding a patient and the duplicate check at registration, on the in-memory ports."""

from __future__ import annotations

import pytest
from clinic.domain.errors import InvalidRequest, PossibleDuplicate
from clinic.domain.patients import EmergencyContact, PatientDetails
from clinic.usecases.front_desk import MATCHES_SHOWN

from tests.usecases.conftest import Clinic


def details(given: str, family: str, born: str = "1980-04-02", phone: str | None = None) -> PatientDetails:
    return PatientDetails(
        given_name=given, family_name=family, birth_date=born, phone=phone, email=None if phone else "p@example.org",
        emergency_contact=EmergencyContact(name="Kin", phone="+15555550101"),
    )


def test_a_patient_is_found_by_either_name_birth_date_or_last_digits_of_the_phone(clinic: Clinic) -> None:
    register = clinic.uses.bookings.register_patient
    zoe = register(details("Zoë", "Núñez", phone="+15555550142"), patient_id="zoe")
    register(details("Zack", "Other", born="1990-01-01"), patient_id="zack")
    find = clinic.uses.front_desk.find_patients

    for typed in ("zoe", "NUNEZ", "nunez zo", "Núñez, Zoë", "1980-04-02", "555 0142", "+1 555 555 0142"):
        assert find(typed) == ([zoe], False), typed
    assert find("zo") == ([zoe], False)  # "zack other" does not start with "zo"
    assert find("0199") == ([], False)
    with pytest.raises(InvalidRequest):
        find("z")


def test_a_search_shows_the_first_twenty_and_says_there_are_more(clinic: Clinic) -> None:
    for n in range(MATCHES_SHOWN + 1):
        clinic.uses.bookings.register_patient(details(f"Sam{n:02d}", "Many", born=f"19{50 + n}-01-01"), patient_id=f"p{n:02d}")

    found, more = clinic.uses.front_desk.find_patients("many")

    assert len(found) == MATCHES_SHOWN and more
    assert [p.given_name for p in found] == [f"Sam{n:02d}" for n in range(MATCHES_SHOWN)]


def test_the_same_name_and_birth_date_or_the_same_phone_is_refused_naming_who_unless_confirmed(clinic: Clinic) -> None:
    register = clinic.uses.bookings.register_patient
    first = register(details("Alex", "Rivera", phone="+15555550100"), patient_id="first")

    with pytest.raises(PossibleDuplicate) as same_name:
        register(details("ALEX", "rivera"), patient_id="second")
    with pytest.raises(PossibleDuplicate) as same_phone:
        register(details("Kim", "Other", born="1999-09-09", phone="+15555550100"), patient_id="third")

    assert same_name.value.patients == [first] and same_phone.value.patients == [first]
    assert "Rivera" not in same_name.value.message  # the message is safe to log; the patients travel beside it
    assert set(clinic.records.patients) == {"first"}
    assert register(details("Alex", "Rivera", born="1981-04-02"), patient_id="namesake").patient_id == "namesake"
    assert register(details("ALEX", "rivera"), patient_id="second", confirmed_new=True).patient_id == "second"


def test_a_repeated_registration_is_not_its_own_duplicate(clinic: Clinic) -> None:
    register = clinic.uses.bookings.register_patient
    first = register(details("Alex", "Rivera", phone="+15555550100"), patient_id="same-request")

    assert register(details("Alex", "Rivera", phone="+15555550100"), patient_id="same-request") == first
