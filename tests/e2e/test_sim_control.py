"""The simulator's control API answers bad requests with clear JSON errors."""


def test_list_shows_configured_faults(sim):
    status, body = sim.control_call("GET", "/faults")
    assert status == 200
    assert body["faults"]["cfg-black"] == {"fault": "black", "active": True}


def test_unknown_stream_is_404(sim):
    status, body = sim.control_call("POST", "/faults/nope", {"fault": "stall"})
    assert status == 404 and "nope" in body["error"]
    status, body = sim.control_call("DELETE", "/faults/nope")
    assert status == 404


def test_bad_fault_is_400(sim):
    for payload in ({"fault": "explode"}, {"fault": "stall@5s"}, {"other": 1}, [1, 2]):
        status, body = sim.control_call("POST", "/faults/h264-360", payload)
        assert status == 400 and "fault" in body["error"]


def test_set_then_clear_shows_in_list(sim):
    sim.set_fault("h264-720", "lowfps")
    _, body = sim.control_call("GET", "/faults")
    assert body["faults"]["h264-720"] == {"fault": "lowfps", "active": True}
    sim.clear_fault("h264-720")
    _, body = sim.control_call("GET", "/faults")
    assert "h264-720" not in body["faults"]


def test_unknown_path_is_json_404(sim):
    status, body = sim.control_call("GET", "/nothing-here")
    assert status == 404 and "error" in body
