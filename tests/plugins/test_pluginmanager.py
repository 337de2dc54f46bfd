"""The plugin manager: built-ins first, entry points, the environment switches, misspelt
hooks, duplicate names naming both plugins, tracing; `rulebook plugins` and `rulebook list`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import engine
from engine import hookimpl
from engine.cli import main
from engine.errors import DuplicateNameError, PluginError
from engine.lang import types as T
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionSpec, Overload
from engine.pluginmanager import DEFAULT_PLUGINS, PluginManager, get_plugin_manager, reset_plugin_manager
from engine.registry import Registry

from .conftest import FakeDist

ROOT = Path(__file__).resolve().parent.parent.parent
VERSIONED = ROOT / "tests" / "data" / "versioned"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


PLUGIN_SOURCE = """
from engine import hookimpl

@hookimpl
def register_rulebooks(register):
    register({folder!r})
"""

FUNCTION_SOURCE = """
from engine import hookimpl
from engine.lang import types as T
from engine.lang.functions import FunctionSpec, Overload

@hookimpl
def register_functions(register):
    register(FunctionSpec({name!r}, (Overload((T.INT,), T.INT, lambda n: n * 2),)))
"""


# -- built-ins ---------------------------------------------------------------------------------------------


def test_the_builtins_come_through_the_hooks(pm: PluginManager) -> None:
    assert DEFAULT_PLUGINS == ("engine.builtin",)
    [(info, hooks)] = pm.plugins()
    assert (info.name, info.distribution, info.builtin) == ("builtin", "rulebook-engine", True)
    assert hooks == [
        "open_records",
        "register_calendars",
        "register_formats",
        "register_functions",
        "register_rulebooks",
    ]
    assert pm.functions().names() == sorted(s.name for s in STANDARD_FUNCTIONS)
    assert list(pm.calendars()) == ["CN"]
    assert {"text", "json"} <= set(pm.formats())
    assert {e.id for e in Registry.default().entries if e.plugin == "builtin"} >= {"hlj-musicians/membership"}
    assert all(e.origin.endswith("(bundled)") for e in Registry.default().entries)


def test_hookimpl_is_public() -> None:
    from engine.hookspecs import hookimpl as marker

    assert engine.hookimpl is marker
    assert "hookimpl" in engine.__all__ and "DuplicateNameError" in engine.__all__


def test_public_all_is_sorted_and_importable() -> None:
    assert engine.__all__ == sorted(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None


# -- entry points and the environment --------------------------------------------------------------------


def test_an_entry_point_plugin_is_loaded_with_its_distribution(
    fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dist("rulebook-fees", "2.3", "fees", "rulebook_fees_ep", PLUGIN_SOURCE.format(folder=str(VERSIONED)))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    pm = get_plugin_manager()
    names = [info.name for info, _ in pm.plugins()]
    assert names[0] == "builtin" and "fees" in names  # built-ins first
    info = pm.info("fees")
    assert (info.distribution, info.version, info.entry_point) == ("rulebook-fees", "2.3", "fees = rulebook_fees_ep")
    entries = Registry.default().versions("test/fees")
    assert {e.origin for e in entries} == {"rulebook-fees 2.3"}
    code, out, _ = run("list", "--lang", "en")
    line = next(line for line in out.splitlines() if "test/fees" in line)
    assert "rulebook-fees 2.3" in line and "2025" in line and "2022, 2024" in line
    code, out, _ = run("plugins", "--format", "json")
    plugins = {o["name"]: o for o in map(json.loads, out.splitlines())}
    assert plugins["fees"] == {
        "name": "fees",
        "distribution": "rulebook-fees",
        "version": "2.3",
        "builtin": False,
        "entry_point": "fees = rulebook_fees_ep",
        "loaded": True,
        "hooks": ["register_rulebooks"],
    }
    code, out, _ = run("plugins", "--lang", "en")
    assert code == 0 and "rulebook-fees" in out and "register_rulebooks" in out


@pytest.mark.parametrize(
    ("load", "disable", "loaded"),
    [
        (None, None, {"fees", "other"}),
        ("", None, set()),  # set but empty: no external plugin at all
        ("fees", None, {"fees"}),  # by entry-point name
        ("rulebook-other", None, {"other"}),  # by distribution name
        ("rulebook_other, fees", None, {"fees", "other"}),  # `_` and `-` alike
        (None, "fees", {"other"}),
        (None, "rulebook-fees,rulebook-other", set()),
        ("fees,other", "other", {"fees"}),  # the block list wins
    ],
)
def test_load_and_disable_lists(
    fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch, load: str | None, disable: str | None, loaded: set[str]
) -> None:
    fake_dist("rulebook-fees", "1.0", "fees", "rulebook_fees_ld", PLUGIN_SOURCE.format(folder=str(VERSIONED)))
    fake_dist("rulebook-other", "1.0", "other", "rulebook_other_ld", "")
    for name, value in (("RULEBOOK_LOAD_PLUGINS", load), ("RULEBOOK_DISABLE_PLUGINS", disable)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    reset_plugin_manager()
    pm = get_plugin_manager()
    assert {info.name for info, _ in pm.plugins()} - {"builtin"} == loaded
    assert {info.name for info in pm.disabled} == {"fees", "other"} - loaded
    assert ("test/fees" in Registry.default().ids()) == ("fees" in loaded)
    code, out, _ = run("plugins", "--lang", "en")
    assert code == 0
    for name in {"fees", "other"} - loaded:
        assert f"rulebook-{name}" in out and "not loaded (disabled)" in out


def test_trace_prints_loading_and_hook_calls(
    fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_dist("rulebook-fees", "1.0", "fees", "rulebook_fees_tr", PLUGIN_SOURCE.format(folder=str(VERSIONED)))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv("RULEBOOK_TRACE_PLUGINS", "1")
    reset_plugin_manager()
    get_plugin_manager()
    err = capsys.readouterr().err
    assert "rulebook-trace: loaded plugin `fees` (rulebook-fees 1.0) from entry point `fees = rulebook_fees_tr`" in err
    assert "rulebook-trace: register_rulebooks(register) -> plugin `fees` (rulebook-fees 1.0)" in err
    assert "rulebook-trace: register_functions(register) -> built-in plugin `builtin` (rulebook-engine" in err
    run("check", "test/fees", "-")
    assert "rulebook-trace: open_records(path='-', options=" in capsys.readouterr().err


def test_a_plugin_that_cannot_be_imported_is_named(fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist("rulebook-broken", "0.9", "broken", "rulebook_broken_imp", "import no_such_module_anywhere\n")
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    code, _, err = run("list", "--lang", "en")
    assert code == 2
    assert "plugin `broken` (rulebook-broken 0.9) cannot be loaded from `rulebook_broken_imp`" in err
    assert "RULEBOOK_DISABLE_PLUGINS=broken" in err and "Traceback" not in err
    monkeypatch.setenv("RULEBOOK_DISABLE_PLUGINS", "broken")
    reset_plugin_manager()
    assert run("list")[0] == 0


# -- misspelt hooks and broken implementations ---------------------------------------------------------------


def test_a_misspelt_hook_is_an_error_naming_the_plugin(fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist(
        "rulebook-typo",
        "1.0",
        "typo",
        "rulebook_typo_hook",
        """
        from engine import hookimpl

        @hookimpl
        def register_rulebook(register):
            pass
    """,
    )
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    d = info.value.diagnostics[0]
    assert d.code == "plugin.unknown-hook"
    assert d.message == "plugin `typo` (rulebook-typo 1.0) implements `register_rulebook`, which is not a hook"
    assert d.help == "did you mean `register_rulebooks`?"


def test_a_hook_argument_that_does_not_exist_is_an_error(pm: PluginManager) -> None:
    class Wrong:
        @hookimpl
        def register_functions(self, add: Any) -> None:
            pass

    with pytest.raises(PluginError, match="wrong"):
        pm.register(Wrong(), "wrong")
    assert "wrong" not in [info.name for info, _ in pm.plugins()]


def test_wrappers_are_refused_where_implementations_are_called_one_by_one(pm: PluginManager) -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def decision_made(self, decision: Any, context: Any) -> Any:
            return (yield)

    with pytest.raises(PluginError, match="`decision_made` cannot be a wrapper"):
        pm.register(Wrapper(), "wrapper")


@pytest.mark.parametrize(
    ("hook", "body", "message"),
    [
        ("register_functions", "register('size')", "expected a FunctionSpec, got str"),
        ("register_calendars", "register(object())", "a calendar needs a `name`"),
        ("register_formats", "register('CSV!', object)", "`CSV!` is not a format name"),
        ("register_formats", "register(print)", "call `register(name, report_class)`"),
        ("register_rulebooks", "register('/no/such/folder')", "`/no/such/folder` is neither a file nor a folder"),
        ("register_rulebooks", "register(42)", "expected a path, got int"),
        ("register_functions", "raise RuntimeError('oops')", "failed in `register_functions`: RuntimeError: oops"),
    ],
)
def test_a_bad_registration_names_the_plugin(pm: PluginManager, hook: str, body: str, message: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"def {hook}(register):\n    {body}\n", namespace)  # noqa: S102 - a tiny plugin built for the test
    plugin = type("Plugin", (), {hook: staticmethod(hookimpl(namespace[hook]))})
    with pytest.raises(PluginError) as info:
        pm.register(plugin, "clumsy")
    assert "plugin `clumsy`" in info.value.diagnostics[0].message
    assert message in info.value.diagnostics[0].message
    assert "clumsy" not in [i.name for i, _ in pm.plugins()]  # nothing half-registered is left


# -- duplicate names -------------------------------------------------------------------------------------------


def test_two_distributions_with_one_function_name(fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist("rulebook-alpha", "1.0", "alpha", "rulebook_alpha_dup", FUNCTION_SOURCE.format(name="twice"))
    fake_dist("rulebook-beta", "2.1", "beta", "rulebook_beta_dup", FUNCTION_SOURCE.format(name="twice"))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    with pytest.raises(DuplicateNameError) as info:
        get_plugin_manager()
    d = info.value.diagnostics[0]
    assert d.code == "plugin.duplicate-name"
    assert d.message == (
        "function `twice` is registered twice: by plugin `alpha` (rulebook-alpha 1.0) and by "
        "plugin `beta` (rulebook-beta 2.1)"
    )
    code, _, err = run("check", "x", "-", "--lang", "en")
    assert code == 2 and "function `twice` is registered twice" in err
    monkeypatch.setenv("RULEBOOK_DISABLE_PLUGINS", "beta")
    reset_plugin_manager()
    assert get_plugin_manager().origin("register_functions", "twice").distribution == "rulebook-alpha"  # type: ignore[union-attr]


def test_a_plugin_cannot_take_a_builtin_function_name(fake_dist: FakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist("rulebook-sized", "1.0", "sized", "rulebook_sized_dup", FUNCTION_SOURCE.format(name="size"))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    with pytest.raises(
        DuplicateNameError,
        match=r"function `size` is registered twice: by built-in plugin "
        r"`builtin` \(rulebook-engine [^)]+\) and by plugin `sized` "
        r"\(rulebook-sized 1.0\)",
    ):
        get_plugin_manager()


class _Cal:
    def __init__(self, name: str) -> None:
        self.name = name

    def is_working_day(self, day: Any) -> bool:
        return True

    def working_days_after(self, day: Any, n: int) -> Any:
        return day


@pytest.mark.parametrize(
    ("hook", "make", "what"),
    [
        ("register_functions", lambda: FunctionSpec("double_it", (Overload((T.INT,), T.INT, abs),)), "function"),
        ("register_calendars", lambda: _Cal("CN"), "calendar"),
        ("register_formats", lambda: ("json", object), "format"),
    ],
    ids=["function", "calendar", "format"],
)
def test_duplicate_names_in_process(pm: PluginManager, hook: str, make: Any, what: str) -> None:
    def impl(register: Any) -> None:
        item = make()
        register(*item) if isinstance(item, tuple) else register(item)

    first = type("First", (), {hook: staticmethod(hookimpl(impl))})
    second = type("Second", (), {hook: staticmethod(hookimpl(impl))})
    if what == "function":
        pm.register(first, "first")
    with pytest.raises(DuplicateNameError) as info:
        pm.register(second, "second")
    message = info.value.diagnostics[0].message
    assert message.startswith(f"{what} `")
    assert "plugin `second`" in message and ("plugin `first`" in message or "`builtin`" in message)
    assert "second" not in [i.name for i, _ in pm.plugins()]


def test_two_plugins_with_one_rulebook_version(pm: PluginManager, tmp_path: Path) -> None:
    class One:
        @hookimpl
        def register_rulebooks(self, register: Any) -> None:
            register(VERSIONED / "fees-2025.yaml")

    copy = tmp_path / "fees-2025.yaml"
    copy.write_text((VERSIONED / "fees-2025.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    class Two:
        @hookimpl
        def register_rulebooks(self, register: Any) -> None:
            register(copy)

    pm.register(One(), "one")
    pm.register(Two(), "two")
    with pytest.raises(DuplicateNameError) as info:
        Registry.default()
    message = info.value.diagnostics[0].message
    assert message.startswith("rulebook `test/fees@2025` is supplied twice: by plugin `one`")
    assert "and by plugin `two`" in message and str(copy) in message
    code, _, err = run("list", "--lang", "en")
    assert code == 2 and "error[plugin.duplicate-name]" in err


def test_rulebook_path_still_adds_rulebooks(pm: PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEBOOK_PATH", str(VERSIONED))
    entries = Registry.default().versions("test/fees")
    assert len(entries) == 3 and all(e.plugin is None and e.origin.startswith("RULEBOOK_PATH") for e in entries)
