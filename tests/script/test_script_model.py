"""The sales script loads; every broken script is refused with one line naming the field."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from voiceagent.errors import ConfigError, ScriptError
from voiceagent.script.model import MAX_HINT_CHARS, MAX_HINTS, SalesScript, load_script

Edit = Callable[[dict[str, Any]], None]


def bundled_data() -> dict[str, Any]:
    text = resources.files("voiceagent.script").joinpath("example.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_bundled_script_loads() -> None:
    script = load_script()
    assert isinstance(script, SalesScript)
    assert script.company
    assert script.agent_name
    assert len(script.qualifying_questions) == script.question_count == 2
    assert all(len(q.ask) >= 2 for q in script.qualifying_questions)
    assert script.disclose_ai_in_opening is True
    assert script.transfer == "Transferring you now."


def test_a_copy_of_the_bundled_script_loads_from_a_path(tmp_path: Path) -> None:
    assert load_script(write(tmp_path, bundled_data())) == load_script()


def test_hints_hold_the_scripts_own_words() -> None:
    script = load_script()
    hints = script.hints()
    assert script.company in hints
    assert script.product.name in hints
    assert script.agent_name in hints
    assert len(hints) <= MAX_HINTS
    assert all(0 < len(h) <= MAX_HINT_CHARS for h in hints)
    assert len({h.lower() for h in hints}) == len(hints)


def test_hints_stay_within_twilios_limits(tmp_path: Path) -> None:
    data = bundled_data()
    data["product"]["terms"] = [f"term {i}" for i in range(700)]
    hints = load_script(write(tmp_path, data)).hints()
    assert len(hints) == MAX_HINTS


def test_a_single_line_is_accepted_where_a_list_is_expected(tmp_path: Path) -> None:
    data = bundled_data()
    data["ask_time"] = "Got a minute?"
    assert load_script(write(tmp_path, data)).ask_time == ["Got a minute?"]


def _parent(data: dict[str, Any], path: str) -> tuple[Any, Any]:
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = data
    for key in parents:
        node = node[key]
    return node, last


def _set(path: str, value: object) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node, key = _parent(data, path)
        node[key] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node, key = _parent(data, path)
        del node[key]

    return edit


INVALID: list[tuple[str, Edit, str]] = [
    ("missing question ask", _delete("qualifying_questions.1.ask"), "qualifying_questions.2.ask"),
    ("missing company", _delete("company"), "company: field required"),
    ("missing goodbye", _delete("goodbyes.caller_dnc"), "goodbyes.caller_dnc: field required"),
    ("company not text", _set("company", 42), "company: must be text"),
    ("product not a section", _set("product", "Widget"), "product:"),
    ("bool not a bool", _set("disclose_ai_in_opening", "sometimes"), "disclose_ai_in_opening:"),
    ("questions not a list", _set("qualifying_questions", "ask"), "qualifying_questions:"),
    ("empty questions", _set("qualifying_questions", []), "qualifying_questions: must not"),
    ("empty phrasings", _set("still_there", []), "still_there: must not be empty"),
    ("blank phrasing", _set("acknowledgements", ["  "]), "acknowledgements.1"),
    ("bad placeholder", _set("goodbyes.declined.0", "Bye {compnay}."), "{compnay}"),
    ("placeholder format", _set("ask_time.1", "Hi {company!r}"), "ask_time.2"),
    ("stray brace", _set("ask_interest.0", "Sound good? }"), "ask_interest.1"),
    ("doubled brace", _set("ask_interest.0", "Sound {{good}}?"), "ask_interest.1"),
    ("markup", _set("pitch.points.0", '<break time="1s"/> Hi.'), "pitch.points.1"),
    ("brace in plain text", _set("company", "Acme {Inc}"), "company:"),
    ("misspelt field", _set("compnay", "Acme"), "compnay: unknown field"),
    ("transfer reworded", _set("transfer", "Putting you through."), "transfer:"),
    ("disclosure without AI", _set("ai_disclosure.0", "I'm a helper."), "ai_disclosure.1"),
    ("opening without AI", _set("opening.with_ai.0", "Hi, {agent_name}, {company}."), "with_ai.1"),
    ("opening without agent", _set("opening.without_ai.0", "Hi from {company}."), "without_ai.1"),
    ("disclosure says yes first", _set("ai_disclosure.0", "Yes, I'm an AI."), "ai_disclosure.1"),
    ("no price answer", _set("faq.price", []), "faq.price: must not be empty"),
    ("no objection kind", _set("objections.no_budget", []), "objections.no_budget"),
    ("unknown fact", _set("acknowledge_facts.0.say.0", "{headcount} people."), "{headcount}"),
    ("fact in a callback", _set("callback.confirm.0", "At {email}."), "{email}"),
    ("bad field name", _set("qualifying_questions.0.field", "Payroll Tool"), "field"),
    ("count without units", _set("qualifying_questions.1.units", []), "units"),
    ("no english line", _set("other_language", {"es": "Adiós."}), "other_language"),
    ("too long", _set("ask_time.0", "word " * 100), "ask_time.1"),
]


@pytest.mark.parametrize(
    ("edit", "names"), [(e, n) for _, e, n in INVALID], ids=[i[0] for i in INVALID]
)
def test_invalid_scripts_name_the_file_and_the_field(
    tmp_path: Path, edit: Edit, names: str
) -> None:
    data = bundled_data()
    edit(data)
    with pytest.raises(ScriptError) as caught:
        load_script(write(tmp_path, data))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'script.yaml'}: ")
    assert names in message
    assert "\n" not in message


def test_the_first_missing_field_example_from_the_brief(tmp_path: Path) -> None:
    data = bundled_data()
    del data["qualifying_questions"][1]["ask"]
    path = write(tmp_path, data)
    with pytest.raises(ScriptError, match=r"qualifying_questions\.2\.ask: field required$"):
        load_script(path)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("company: [Acme\nagent_name: Maya\n", "YAML syntax error at line"),
        ("company: Acme\n  agent_name: Maya\n", "YAML syntax error"),
        ("", "the file is empty"),
        ("- just\n- a list\n", "expected named fields"),
    ],
    ids=["unclosed bracket", "bad indentation", "empty", "not a mapping"],
)
def test_unreadable_yaml_is_one_clear_line(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_script(tmp_path / "nope.yaml")


def test_optional_fields_have_defaults(tmp_path: Path) -> None:
    data = bundled_data()
    for key in ("disclose_ai_in_opening", "transfer", "acknowledge_facts", "lead_name_fallback"):
        del data[key]
    del data["goodbyes"]["voicemail"]
    script = load_script(write(tmp_path, data))
    assert script.disclose_ai_in_opening is True
    assert script.transfer == "Transferring you now."
    assert script.acknowledge_facts == []
    assert script.goodbyes.voicemail == []
