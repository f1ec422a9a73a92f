import json

from tests.support.world import CLINIC, World, at, clinic_day


def test_book_and_read_back(clinic: World) -> None:
    patient = clinic.register_patient()
    day = clinic_day()
    reply = clinic.book(patient["patientId"], at(day, 9), key="booking-key-1")
    assert reply.status == 201, reply.body
    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert board.status == 200, board.body
    assert [a["appointmentId"] for a in board.body["appointments"]] == [reply.body["appointmentId"]]


def test_a_booking_emits_its_business_metric(clinic: World, capsys) -> None:
    patient = clinic.register_patient()
    capsys.readouterr()
    assert clinic.book(patient["patientId"], at(clinic_day(), 9), key="metric-booking").status == 201
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [m["AppointmentBooked"] for m in emitted if "AppointmentBooked" in m] == [[1.0]]
    assert emitted[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "KetamineClinic"
