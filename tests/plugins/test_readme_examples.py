"""The poll, form and event blocks shown in the README are valid: what it promises works."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from plugins.calendar import definitions as events
from plugins.polls import definitions as polls

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def blocks(kind: str) -> list[dict]:
    """The YAML of every ```` ```kind ```` block in the README (also indented ones)."""
    found = re.findall(rf"^( *)```{kind}\n(.*?)^\1```$", README, re.M | re.S)
    return [yaml.safe_load(textwrap.dedent(body)) for _indent, body in found]


@pytest.mark.parametrize("kind", ["poll", "form"])
def test_readme_polls_and_forms_validate(kind):
    examples = blocks(kind)
    assert examples, f"no {kind} block in the README"
    for data in examples:
        definition, problems = polls.parse(kind, data)
        assert problems == [] and definition is not None, [str(p) for p in problems]


def test_readme_event_validates():
    examples = blocks("termin")
    assert examples
    for data in examples:
        event, problems = events.parse(data)
        assert problems == [] and event is not None, [str(p) for p in problems]
        assert event.rsvp_max == 12 and event.rrule
