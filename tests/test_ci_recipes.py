"""The CI recipes: `.pre-commit-hooks.yaml` and `docs/ci.md`, checked against the engine.

The hooks are run as pre-commit runs them (the entry, the hook's `args`, then the
selected file names) with `python -m engine` in place of the `rulebook` script,
on the bundled rulebooks and on a broken one. Every fenced `yaml` block of the
document must load; the workflows, the GitLab job and the pre-commit
configurations must hang together (what is uploaded is what was written); and
every `rulebook ...` command line, every `--option` in a code span, must be one
that `engine.cli.build_parser()` accepts.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.cli import build_parser
from engine.errors import UsageError
from engine.pluginmanager import PluginManager

ROOT = Path(__file__).resolve().parent.parent
HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
CI_DOC = ROOT / "docs" / "ci.md"
HOOK_IDS = ("rulebook-lint", "rulebook-test")

# identify's tags for the kinds of file a rulebook repository holds (pre-commit's `types`)
TAGS = {
    ".yaml": {"file", "text", "yaml"},
    ".yml": {"file", "text", "yaml"},
    ".json": {"file", "text", "json"},
    ".md": {"file", "text", "markdown"},
    ".jsonl": {"file", "text"},
}


def load_hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return {hook["id"]: hook for hook in hooks}


def selected(hook: dict[str, Any], path: str) -> bool:
    """Whether pre-commit hands ``path`` (relative to the repository root) to the hook."""
    tags = TAGS[Path(path).suffix]
    return (
        re.search(hook.get("files", ""), path) is not None
        and not (hook.get("exclude") and re.search(hook["exclude"], path))
        and set(hook.get("types", ["file"])) <= tags
        and (not hook.get("types_or") or bool(set(hook["types_or"]) & tags))
    )


def hook_argv(hook: dict[str, Any], files: list[str]) -> list[str]:
    """The hook's command as pre-commit builds it, with ``python -m engine`` for ``rulebook``."""
    entry = shlex.split(hook["entry"])
    assert entry[0] == "rulebook"
    names = files if hook.get("pass_filenames", True) else []
    return [sys.executable, "-m", "engine", *entry[1:], *hook.get("args", []), *names]


def run_hook(hook: dict[str, Any], files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        hook_argv(hook, files),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def command_tokens(line: str) -> list[str]:
    """The words of a shell command line up to its first operator (``>``, ``|``, ``||``, ``&&``, ``;``)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = []
    for token in lexer:
        if set(token) <= set("();<>|&"):
            break
        tokens.append(token)
    return tokens


def check_command(line: str) -> argparse.Namespace:
    """Assert that ``rulebook ...`` uses a real subcommand, real options and valid literal values;
    return what the parser makes of it (``$VARIABLE`` words stand for any value).  A command named
    alone in prose (```rulebook check```) is only checked to exist."""
    tokens = command_tokens(line)
    assert tokens[:1] == ["rulebook"], line
    assert len(tokens) > 1, f"no subcommand: {line}"
    subs = subcommands()
    name = tokens[1]
    assert name in subs, f"`rulebook {name}` is not a subcommand ({', '.join(sorted(subs))}): {line}"
    options = subs[name]._option_string_actions
    formats = set(PluginManager().load(entry_points=False).formats())
    words = iter(tokens[2:])
    for word in words:
        if not word.startswith("-") or word == "-":
            continue
        option, eq, inline = word.partition("=")
        assert option in options, f"`rulebook {name}` has no option `{option}`: {line}"
        action = options[option]
        if action.nargs == 0:
            continue
        value = inline if eq else next(words, None)
        assert value is not None, f"`{option}` needs a value: {line}"
        if "$" in value:
            continue
        if action.choices is not None:
            assert value in action.choices, f"`{option} {value}` is not one of {sorted(action.choices)}: {line}"
        elif name == "check" and action.dest == "format":
            assert value in formats, f"`--format {value}` is not a built-in format {sorted(formats)}: {line}"
        elif callable(action.type):
            action.type(value)
    if len(tokens) == 2:
        return argparse.Namespace(command=name)
    try:
        return build_parser().parse_args([re.sub(r"\$\w+", "placeholder", t) for t in tokens[1:]])
    except UsageError as e:
        pytest.fail(f"{line}: {e.render('en')}")


def redirect_target(line: str) -> str | None:
    match = re.search(r"(?<![|>])>\s*(\S+)", line)
    return match.group(1) if match else None


DOC = CI_DOC.read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"^```yaml\n(.*?)^```$", DOC, flags=re.MULTILINE | re.DOTALL)
FENCED_LINES = [
    line
    for block in re.findall(r"^```[\w-]*\n(.*?)^```$", DOC, flags=re.MULTILINE | re.DOTALL)
    for line in block.splitlines()
]
COMMAND_LINE = re.compile(r"^\s*(?:-\s+)?(?:run:\s*)?(?:\$\s+)?(rulebook\s.*)$")
DOC_COMMANDS = sorted(
    {m.group(1).strip() for line in FENCED_LINES if (m := COMMAND_LINE.match(line))}
    | {span.strip() for span in re.findall(r"`(rulebook\s[^`]+)`", DOC)}
)


def block_id(block: str) -> str:
    first = block.splitlines()[0]
    return first.lstrip("# ").strip() if first.startswith("#") else first.strip()


def yaml_documents() -> list[Any]:
    return [yaml.safe_load(block) for block in YAML_BLOCKS]


def workflow_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


# -- .pre-commit-hooks.yaml ------------------------------------------------------------------------------


def test_the_manifest_has_exactly_the_two_hooks() -> None:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == list(HOOK_IDS)


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_each_hook_is_a_complete_python_hook(hook_id: str) -> None:
    hook = load_hooks()[hook_id]
    assert {"id", "name", "entry", "language"} <= hook.keys()
    assert all(isinstance(hook[key], str) and hook[key] for key in ("id", "name", "entry", "language"))
    assert hook["language"] == "python"  # pre-commit installs the engine itself, with its `rulebook` script
    ns = check_command(" ".join([hook["entry"], *map(shlex.quote, hook.get("args", []))]))
    assert ns.command == hook_id.removeprefix("rulebook-")
    # without file names `lint` and `test` read the installed rulebooks, not the repository's
    assert hook.get("pass_filenames", True) is True


@pytest.mark.parametrize(
    ("path", "is_rulebook"),
    [
        ("rulebooks/hlj-musicians/membership.yaml", True),
        ("rulebooks/local.yml", True),
        ("plugins/rulebook-dancers/rulebook_dancers/rulebooks/membership.yaml", True),
        ("rulebooks/dancer-applicant.schema.json", False),
        (".pre-commit-config.yaml", False),
        (".pre-commit-hooks.yaml", False),
        (".github/workflows/rulebook-check.yml", False),
        (".gitlab-ci.yml", False),
        ("docs/rulebooks/hlj-musicians/membership.md", False),
        ("data/applicants.jsonl", False),
    ],
    ids=str,
)
@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_the_hooks_take_rulebooks_and_nothing_else(hook_id: str, path: str, is_rulebook: bool) -> None:
    assert selected(load_hooks()[hook_id], path) is is_rulebook


def bundled_rulebooks() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "rulebooks").glob("**/*.yaml"))


def test_the_lint_hook_passes_the_bundled_rulebooks() -> None:
    hook, files = load_hooks()["rulebook-lint"], bundled_rulebooks()
    assert files and all(selected(hook, f) for f in files)
    result = run_hook(hook, files, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for f in files:
        assert f"{f}：没有问题" in result.stdout  # the hooks speak Chinese unless RULEBOOK_LANG says otherwise


def test_the_test_hook_passes_the_bundled_rulebooks() -> None:
    hook, files = load_hooks()["rulebook-test"], bundled_rulebooks()
    assert files and all(selected(hook, f) for f in files)
    result = run_hook(hook, files, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) 个示例通过，0 个不通过", last)
    assert match and int(match.group(1)) > 0, last
    for rulebook_id in ("hlj-musicians/membership", "hcm-student-union/charter", "hcm-student-union/reform-checklist"):
        assert rulebook_id in result.stdout


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_a_hook_fails_on_a_broken_rulebook(hook_id: str, tmp_path: Path) -> None:
    # GIVEN a rulebook repository whose rulebook misspells a field
    text = (ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").read_text(encoding="utf-8")
    assert "record.birth_date" in text
    (tmp_path / "rulebooks").mkdir()
    (tmp_path / "rulebooks" / "membership.yaml").write_text(
        text.replace("record.birth_date", "record.birth_dat"), encoding="utf-8"
    )
    hook = load_hooks()[hook_id]
    assert selected(hook, "rulebooks/membership.yaml")
    # WHEN pre-commit runs the hook there
    result = run_hook(hook, ["rulebooks/membership.yaml"], tmp_path)
    # THEN the rulebook's errors are shown where they are, and the commit is refused
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "rulebooks/membership.yaml:" in output
    assert "error[check.unknown-field]" in output


# -- docs/ci.md -------------------------------------------------------------------------------------------


def test_the_document_is_linked_from_readme_and_cli_md() -> None:
    assert "(docs/ci.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(ci.md)" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=[block_id(b) for b in YAML_BLOCKS])
def test_every_yaml_block_loads(block: str) -> None:
    assert isinstance(yaml.safe_load(block), dict)


def test_the_document_shows_every_kind_of_recipe() -> None:
    docs = yaml_documents()
    assert sum("jobs" in d for d in docs) >= 1  # GitHub Actions
    assert sum(any(isinstance(v, dict) and "script" in v for v in d.values()) for d in docs) >= 1  # GitLab CI
    assert sum("repos" in d for d in docs) >= 1  # pre-commit
    assert {check_command(c).command for c in DOC_COMMANDS} >= {"check", "lint", "test"}


@pytest.mark.parametrize("command", DOC_COMMANDS)
def test_every_command_line_is_one_the_parser_accepts(command: str) -> None:
    check_command(command)


def test_every_option_in_a_code_span_exists() -> None:
    # `--fail-on`, `--format github`: an option of some command; `check --jobs N`: of that command
    subs = {name: set(sub._option_string_actions) for name, sub in subcommands().items()}
    anywhere = set().union(*subs.values())
    unknown, seen = [], 0
    for span in re.findall(r"`([^`\n]+)`", DOC):
        first = span.split()[0]
        known = subs.get(first) or (anywhere if first.startswith("--") else None)
        if known is None:
            continue
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", span):
            seen += 1
            if option not in known:
                unknown.append(span)
    assert seen
    assert unknown == []


def test_the_github_workflows_upload_what_they_write() -> None:
    workflows = [d for d in yaml_documents() if "jobs" in d]
    assert workflows
    uploads = 0
    for workflow in workflows:
        assert workflow["permissions"]["security-events"] == "write"
        steps = workflow_steps(workflow)
        runs = [step["run"] for step in steps if "run" in step and step["run"].startswith("rulebook ")]
        assert any(getattr(check_command(r), "format", None) == "github" for r in runs), "no step shows annotations"
        written: set[str] = set()
        ids: set[str] = set()
        for step in steps:
            for ref in re.findall(r"steps\.([\w-]+)\.", str(step.get("if", ""))):
                assert ref in ids, f"`{step.get('name')}` refers to no earlier step `{ref}`"
            ids.add(step.get("id", ""))
            if "run" in step and step["run"].startswith("rulebook "):
                ns = check_command(step["run"])
                if getattr(ns, "format", None) == "sarif":
                    written.add(ns.output if getattr(ns, "output", None) else redirect_target(step["run"]))
            if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"):
                assert step["with"]["sarif_file"] in written
                assert step["with"].get("category")
                uploads += 1
    assert uploads >= 1


def test_the_feed_workflow_checks_with_sarif_and_annotations() -> None:
    workflow = next(d for d in yaml_documents() if "jobs" in d and "rulebook check" in str(d))
    checks = [
        check_command(s["run"]) for s in workflow_steps(workflow) if s.get("run", "").startswith("rulebook check")
    ]
    assert {ns.format for ns in checks} == {"github", "sarif"}
    assert next(ns for ns in checks if ns.format == "sarif").output == "results.sarif"


def test_the_gitlab_job_publishes_its_junit_report_always() -> None:
    jobs = [job for d in yaml_documents() for job in d.values() if isinstance(job, dict) and "script" in job]
    assert jobs
    for job in jobs:
        reports = [
            ns
            for line in job["script"]
            if line.startswith("rulebook check")
            for ns in [check_command(line)]
            if ns.format == "junit"
        ]
        assert reports, "no JUnit report"
        assert job["artifacts"]["when"] == "always"
        assert job["artifacts"]["reports"]["junit"] == reports[0].output


def test_the_pre_commit_configurations_use_the_manifest() -> None:
    hooks = load_hooks()
    configs = [d for d in yaml_documents() if "repos" in d]
    assert configs
    used = set()
    for config in configs:
        for repo in config["repos"]:
            assert repo["repo"].startswith("https://") and str(repo["rev"])
            for hook in repo["hooks"]:
                assert hook["id"] in hooks
                used.add(hook["id"])
                re.compile(hook.get("files", ""))
                merged = {**hooks[hook["id"]], **hook}
                check_command(" ".join([merged["entry"], *map(shlex.quote, merged.get("args", []))]))
    assert used == set(HOOK_IDS)
