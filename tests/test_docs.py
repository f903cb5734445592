"""The documentation follows the code: docs/spec.md carries the generated settings table, names
every setting, optimizer, schedule and argument, and its TOML examples validate; README.md
shows every ``tuner`` command."""

import argparse
import re
import tomllib
from pathlib import Path

import pytest

from tuner.cli import build_parser
from tuner.errors import SpecError
from tuner.optim import OPTIMIZERS
from tuner.schedules import SCHEDULES
from tuner.service.space import LOG_SCALE, optimizer_arguments, schedule_arguments
from tuner.service.spec import SEARCH_HELP, SETTINGS, load_spec, parse_spec, settings_markdown

ROOT = Path(__file__).resolve().parent.parent
SPEC_DOC = ROOT / "docs" / "spec.md"
README = ROOT / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
REGENERATE = (
    ".venv/bin/python -c 'import pathlib,re; from tuner.service.spec import settings_markdown "
    "as m; p=pathlib.Path(\"docs/spec.md\"); p.write_text(re.sub(r\"(?s)(<!-- settings:start "
    "-->\\n).*?(<!-- settings:end -->)\", lambda x: x[1]+m()+x[2], p.read_text(encoding="
    "\"utf-8\")), encoding=\"utf-8\")'")


def doc() -> str:
    return SPEC_DOC.read_text(encoding="utf-8")


def prose() -> str:
    """docs/spec.md without the generated table."""
    text = doc()
    return text[:text.index(START)] + text[text.index(END):]


def subcommands() -> list[str]:
    [action] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(action.choices)


# --- the generated settings table -------------------------------------------------------------

def test_settings_table_is_generated_from_settings():
    text = doc()
    assert text.count(START) == 1 and text.count(END) == 1, "one pair of settings markers"
    between = text[text.index(START) + len(START):text.index(END)]
    assert between == "\n" + settings_markdown(), (
        "docs/spec.md's settings table is out of date; regenerate it from the repository "
        f"root with:\n{REGENERATE}")


def test_the_regenerate_command_is_one_line_that_writes_the_table(tmp_path, monkeypatch):
    """The command in the failure message above does what it says (run on a copy)."""
    stale = doc().replace(settings_markdown(), "| stale |\n")
    assert stale != doc()
    copy = tmp_path / "docs" / "spec.md"
    copy.parent.mkdir()
    copy.write_text(stale, encoding="utf-8")
    code = REGENERATE.split("-c '", 1)[1].rsplit("'", 1)[0]
    assert "\n" not in REGENERATE
    monkeypatch.chdir(tmp_path)
    exec(code, {})      # noqa: S102
    assert copy.read_text(encoding="utf-8") == doc()


@pytest.mark.parametrize("key", [s.key for s in SETTINGS])
def test_every_setting_is_documented(key):
    assert f"`{key}`" in doc()


@pytest.mark.parametrize("key", list(SEARCH_HELP))
def test_every_search_key_is_documented(key):
    assert f"`search.{key}`" in doc()


# --- optimizers, schedules, arguments (in the prose, not only in the generated table) --------

@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_and_its_arguments_are_documented(name):
    row = [line for line in prose().splitlines() if line.startswith(f"| `{name}` |")]
    assert row, f"docs/spec.md has no row for optimizer {name!r}"
    for arg in optimizer_arguments(name):
        assert re.search(rf"\b{arg}\b", row[0]), f"{name}: argument {arg!r} not in its row"


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_and_its_arguments_are_documented(name):
    row = [line for line in prose().splitlines() if line.startswith(f"| `{name}` |")]
    assert row, f"docs/spec.md has no row for schedule {name!r}"
    for arg in schedule_arguments(name):
        assert re.search(rf"\b{arg}\b", row[0]), f"{name}: argument {arg!r} not in its row"


@pytest.mark.parametrize("name", sorted(LOG_SCALE))
def test_every_log_scale_argument_is_named_in_the_value_forms(name):
    [row] = [line for line in prose().splitlines() if line.startswith("| `[low, high]` |")]
    assert f"`{name}`" in row


# --- the examples -----------------------------------------------------------------------------

def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", doc(), flags=re.S)


def test_there_are_examples():
    assert len(toml_blocks()) >= 6


@pytest.mark.parametrize("index", range(len(re.findall(r"```toml\n", SPEC_DOC.read_text(
    encoding="utf-8")))))
def test_every_toml_example_validates(index):
    """A fragment without [study] is checked inside a minimal spec."""
    raw = tomllib.loads(toml_blocks()[index])
    raw.setdefault("study", {"name": "docs", "task": "iris"})
    parse_spec(raw, f"docs/spec.md example {index + 1}")


def test_the_complete_example_is_the_digits_spec():
    raw = tomllib.loads(toml_blocks()[0])
    assert parse_spec(raw).hash == load_spec(ROOT / "studies" / "digits.toml").hash
    assert raw == tomllib.loads((ROOT / "studies" / "digits.toml").read_text(encoding="utf-8"))


def test_the_error_example_is_the_real_format():
    shown = re.findall(r"^tuner: error: my\.toml: (.*)$", doc(), flags=re.M)
    assert len(shown) == 2
    with pytest.raises(SpecError) as info:
        parse_spec({"study": {"name": "x", "task": "iris", "sampler": "tpee"},
                    "search": {"optimizers": ["momentum"], "momentum": 1.5}}, "my.toml")
    assert sorted(f"my.toml: {line}" for line in shown) == sorted(info.value.problems)


# --- README -----------------------------------------------------------------------------------

def test_readme_exists():
    assert README.is_file(), "README.md is missing (pyproject.toml names it as the readme)"


@pytest.mark.parametrize("command", subcommands())
def test_every_cli_command_is_in_the_readme(command):
    text = README.read_text(encoding="utf-8") if README.is_file() else ""
    assert re.search(rf"\btuner {command}\b", text), (
        f"README.md does not show the command `tuner {command}`")
