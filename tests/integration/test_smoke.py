from tests.support.world import CLINIC, World, at, clinic_day


def test_book_and_read_back(clinic: World) -> None:
    patient = clinic.register_patient()
    day = clinic_day()
    reply = clinic.book(patient["patientId"], at(day, 9), key="booking-key-1")
    assert reply.status == 201, reply.body
    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert board.status == 200, board.body
    assert [a["appointmentId"] for a in board.body["appointments"]] == [reply.body["appointmentId"]]
