"""Hidden markers round-trip JSON and Markdown, are replaced in place, and never leak '-->'."""

from bot.ledger import markers


def test_data_marker_round_trips_and_is_replaced_not_appended() -> None:
    body = "Do the thing.\n"
    once = markers.write_data(body, "task", {"paths": ["a.py"], "note": "x --> y"})
    twice = markers.write_data(once, "task", {"paths": ["b.py"]})
    assert markers.read_data(twice, "task") == {"paths": ["b.py"]}
    assert twice.count("orchestra:task") == 1
    assert twice.startswith("Do the thing.")
    assert markers.read_data(once, "task")["note"] == "x --> y"
    assert once.count("-->") == 1


def test_names_do_not_match_by_prefix() -> None:
    text = markers.data_marker("task-extra", 1)
    assert markers.read_data(text, "task") is None
    assert not markers.has_tag(text, "task")
    assert markers.has_tag(markers.tag("status") + "\nhello", "status")


def test_section_is_replaced_and_people_text_around_it_is_kept() -> None:
    body = "Person's words.\n"
    once = markers.write_section(body, "plan", "- [ ] #2")
    twice = markers.write_section(once + "\nMore words.", "plan", "- [x] #2")
    assert markers.read_section(twice, "plan") == "- [x] #2"
    assert twice.startswith("Person's words.") and twice.endswith("More words.")
    assert twice.count("<!-- orchestra:plan -->") == 1


def test_bad_json_reads_as_none() -> None:
    assert markers.read_data("<!-- orchestra:task {not json -->", "task") is None
