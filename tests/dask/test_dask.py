"""The engine on a Dask cluster gives what a local run gives, record for record and field for field.

Every test runs on a ``LocalCluster`` of two worker processes on 127.0.0.1 (conftest), or on one
of its own where the test changes the workers (a plugin, a killed worker)."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask.bag as db
import pytest
from distributed import Client

from engine.dask import DecisionCounts, WorkerSetupError, check_bag, read_records, rulebook_spec, summarize
from engine.dask.rulebook import built_keys, forget_built
from engine.pluginmanager import reset_plugin_manager
from tests.plugins.conftest import clean_env, copy_package, forget_modules
from tests.test_feed_every_format import applicant

from .conftest import check_killing_a_worker, run, start_cluster

ROOT = Path(__file__).resolve().parent.parent.parent
RB = "hlj-musicians/membership"
EXAMPLES = [
    ("examples/applicants.jsonl", []),
    ("examples/members.jsonl", ["--decision", "member-status", "--as-of", "2025-12-15"]),
    ("examples/terminations.jsonl", ["--decision", "termination", "--as-of", "2026-03-01"]),
    ("examples/applicant.json", []),
]


def local_json(*argv: str) -> list[dict[str, Any]]:
    code, out, err = run("check", *argv, "--format", "json", "--lang", "en")
    assert code in (0, 1), err
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("path", "options"), EXAMPLES)
def test_bundled_examples_match_a_local_check(client: Client, in_root: None, path: str, options: list[str]) -> None:
    """check_bag over read_records (ranges of 2 KiB, so that lines cross partition edges) and
    ``check --dask`` give exactly the objects and the bytes of a local ``check``."""
    expected = local_json(RB, path, *options)
    decision = options[options.index("--decision") + 1] if "--decision" in options else None
    as_of = options[options.index("--as-of") + 1] if "--as-of" in options else None
    import datetime as dt

    day = dt.date.fromisoformat(as_of) if as_of else None
    bag = read_records(path, blocksize=2048)
    got = check_bag(RB, bag, decision, day, "en").compute()
    assert got == expected
    code, out, err = run(
        "check", RB, path, *options, "--format", "json", "--lang", "en", "--dask", client.scheduler.address
    )
    local_code, local_out, local_err = run("check", RB, path, *options, "--format", "json", "--lang", "en")
    assert (code, out, err) == (local_code, local_out, local_err)
    sarif = ("check", RB, path, *options, "--format", "sarif", "--lang", "en")
    assert run(*sarif, "--dask", client.scheduler.address) == run(*sarif)


def write_feed(folder: Path, n: int, files: int = 5) -> list[str]:
    """``n`` generated applicants over ``files`` JSON Lines files, with in each file: a line that is
    not JSON, one that is not UTF-8, an array instead of an object, blank lines, a line ending
    in CRLF, and (in the first file) a byte-order mark; the last file ends without a newline."""
    rng = random.Random(17)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    per = n // files
    for f in range(files):
        lines: list[bytes] = []
        for i in range(per):
            lines.append(json.dumps(applicant(rng, f * per + i + 1), ensure_ascii=False).encode("utf-8"))
        for at, bad in (
            (per // 3, b'{"id": "broken", "name": '),
            (per // 2, b'{"id": "\xff\xfe latin"}'),
            (2 * per // 3, b"[1, 2, 3]"),
            (per // 4, b""),
            (per // 5, b"   "),
        ):
            lines.insert(at, bad)
        lines[7] = lines[7] + b"\r"
        data = b"\n".join(lines) + (b"" if f == files - 1 else b"\n")
        if f == 0:
            data = b"\xef\xbb\xbf" + data
        name = folder / f"part-{f}.jsonl"
        name.write_bytes(data)
        names.append(f"feed/part-{f}.jsonl")
    return names


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feed")
    write_feed(root / "feed", FEED_RECORDS)
    return root


FEED_RECORDS = 10_000


def test_a_feed_of_generated_applicants_matches_a_local_check(
    client: Client, feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated applicants over 5 files with broken lines: ``check --dask`` writes the same bytes
    (every decision, every error object at its file and line), the same summary and exit code
    as a local ``check``; the bag API gives the
    same objects, and its summary the same counts.

    The issue's figure is 50,000 records; the test uses 10,000 so that the suite stays within a
    few minutes on two shared cores (a local check and a cluster run of 50,000 took over three
    minutes there).  The coverage is the same: five files, each cut into several byte ranges
    (1 MiB blocks), lines crossing range edges, the same broken, blank, CRLF and BOM lines."""
    monkeypatch.chdir(feed)
    files = [f"feed/part-{f}.jsonl" for f in range(5)]
    address = client.scheduler.address
    local = run("check", RB, *files, "--format", "json", "--lang", "en", "--jobs", "1")
    dask = run("check", RB, *files, "--format", "json", "--lang", "en", "--dask", address)
    assert dask == local
    lines = local[1].splitlines()
    assert len(lines) == FEED_RECORDS + 15  # 3 unreadable lines per file are error objects too
    errors = [json.loads(line) for line in lines if '"outcome": "error"' in line]
    broken = {
        (name, n)
        for name in files
        for n, line in enumerate(Path(name).read_bytes().split(b"\n"), 1)
        if line.startswith((b'{"id": "broken"', b'{"id": "\xff', b"[1, 2, 3]"))
    }
    assert len(broken) == 15
    assert {(e["input"]["file"], e["input"]["line"]) for e in errors if e["record"] is None} == broken

    bag = read_records("feed/*.jsonl", blocksize=1 << 20)
    assert bag.npartitions > 5
    decisions = check_bag(RB, bag, lang="en")
    assert decisions.compute() == [json.loads(line) for line in lines]
    counts = summarize(decisions).compute()
    assert isinstance(counts, DecisionCounts)
    outcomes: dict[str, int] = {}
    for line in lines:
        o = json.loads(line)["outcome"]
        outcomes[o] = outcomes.get(o, 0) + 1
    assert counts.outcomes == outcomes and counts.total == len(lines)
    adult = counts.rules["admission/adult"]
    assert sum(adult.values()) == len(lines) - 15
    assert counts.articles["12"]["fail"] > 0


def test_each_worker_builds_the_rulebook_once_from_its_text(client: Client, in_root: None) -> None:
    """What the graph carries is the rulebook's text, never compiled code; each worker process
    builds the decision once, however many partitions it decides."""
    bag = read_records("examples/applicants.jsonl", blocksize=512)
    assert bag.npartitions >= 10
    decisions = check_bag(RB, bag, lang="en")
    graph = dict(decisions.__dask_graph__())
    shipped = cloudpickle.dumps(graph)
    assert b"CompiledDecision" not in shipped and b"marshal" not in shipped
    assert "第十二条".encode() in shipped  # the rulebook's text
    client.run(forget_built)
    assert len(decisions.compute()) == 20
    builds = client.run(built_keys)
    spec, _built = rulebook_spec(RB)
    assert all(keys in ([], [spec.key]) for keys in builds.values())
    assert any(keys == [spec.key] for keys in builds.values())


def test_plain_records_and_a_rulebook_file(client: Client, in_root: None) -> None:
    """A bag of dicts (no file or line) and a rulebook named by its YAML path."""
    records = [json.loads(line) for line in Path("examples/applicants.jsonl").read_text(encoding="utf-8").splitlines()]
    got = check_bag("rulebooks/hlj-musicians/membership.yaml", db.from_sequence(records, npartitions=4)).compute()
    expected = local_json("rulebooks/hlj-musicians/membership.yaml", "examples/applicants.jsonl")
    assert [g["outcome"] for g in got] == [e["outcome"] for e in expected]
    assert all(g["input"] is None for g in got)
    assert [g["rules"] for g in got] != [] and got[0]["record"] == expected[0]["record"]


def test_usage_errors_are_positioned_messages(client: Client, in_root: None) -> None:
    assert run("check", RB, "-", "--dask", client.scheduler.address, "--lang", "en")[0] == 2
    code, _out, err = run("check", RB, "examples/applicants.jsonl", "--dask", "local:0", "--lang", "en")
    assert code == 2 and "local:N" in err and "Traceback" not in err
    code, _out, err = run("check", RB, "nothing/*.jsonl", "--dask", client.scheduler.address, "--lang", "en")
    assert code == 2 and "no file matches `nothing/*.jsonl`" in err
    code, _out, err = run("check", RB, "examples/applicants.jsonl", "--dask", "tcp://127.0.0.1:9", "--lang", "zh")
    assert code == 2 and "无法连接" in err and "Traceback" not in err
    code, _out, err = run(
        "check", RB, "examples/applicants.jsonl", "--dask", client.scheduler.address, "--jobs", "2", "--lang", "en"
    )
    assert code == 2 and "--jobs" in err


def test_diff_on_the_cluster_lists_the_same_changes(client: Client, tmp_path: Path) -> None:
    """``diff --data --dask`` finds the records a local ``diff --data`` finds, and counts the
    changes per rule."""
    old = ROOT / "tests/data/versioned/fees-2024.yaml"
    new = ROOT / "tests/data/versioned/fees-2025.yaml"
    rng = random.Random(3)
    lines = []
    for i in range(400):
        lines.append(json.dumps({"id": f"P-{i}", "amount": rng.randrange(0, 400), "paid_on": "2025-06-01"}))
    data = tmp_path / "payments.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local = run("diff", str(old), str(new), "--data", str(data), "--format", "json")
    dask = run("diff", str(old), str(new), "--data", str(data), "--format", "json", "--dask", client.scheduler.address)
    assert dask[0] == local[0]
    a, b = json.loads(local[1]), json.loads(dask[1])
    per_rule = b.pop("rules_changed")
    assert a == b
    expected: dict[tuple[str, str, str], int] = {}
    for record in a["records"]:
        for r in record["rules"]:
            key = (r["id"], r["old"], r["new"])
            expected[key] = expected.get(key, 0) + 1
    assert {(r["rule"], r["old"], r["new"]): r["records"] for r in per_rule} == expected


# -- a plugin's rulebook on the workers --------------------------------------------------------------------------

DANCERS = ROOT / "plugins" / "rulebook-dancers"
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]


@pytest.fixture(scope="module")
def dancers_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --target SITE plugins/rulebook-dancers``, as the plugin tests install it."""
    work = tmp_path_factory.mktemp("dancers")
    src = copy_package(DANCERS, work / "src")
    site = work / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(site), str(src)],
        check=True,
        capture_output=True,
        env=clean_env(),
        timeout=300,
    )
    return site


@pytest.fixture
def with_dancers(dancers_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example plugin installed for this process and for worker processes started after."""
    monkeypatch.syspath_prepend(str(dancers_site))
    monkeypatch.setenv("PYTHONPATH", str(dancers_site))
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "rulebook-dancers")
    reset_plugin_manager()
    yield
    reset_plugin_manager()
    forget_modules("rulebook_dancers")


def test_a_plugin_rulebook_on_workers_that_have_the_plugin(dancers_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers without the plugin fail with a message naming it; workers with it give the local result."""
    feed = str(DANCERS / "examples" / "applicants.jsonl")
    with start_cluster() as bare, Client(bare) as client:  # started before the plugin is installed
        monkeypatch.syspath_prepend(str(dancers_site))
        monkeypatch.setenv("PYTHONPATH", str(dancers_site))
        monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "rulebook-dancers")
        reset_plugin_manager()
        try:
            spec, _built = rulebook_spec("hlj-dancers/membership")
            assert [p[0] for p in spec.plugins] == ["dancers"]
            with pytest.raises(WorkerSetupError, match=re.escape("no plugin `dancers` (rulebook-dancers 0.1.0)")):
                check_bag(spec, read_records(feed), lang="en").compute()
            code, _out, err = run("check", "hlj-dancers/membership", feed, "--dask", client.scheduler.address)
            assert code == 2 and "dancers" in err and "pip install rulebook-dancers==0.1.0" in err
            assert "Traceback" not in err and "pickl" not in err
        finally:
            reset_plugin_manager()
    try:
        reset_plugin_manager()
        with start_cluster() as cluster, Client(cluster) as client:  # the workers see the installed plugin
            local = run("check", "hlj-dancers/membership", feed, "--format", "json")
            assert local[1]
            on_cluster = run(
                "check", "hlj-dancers/membership", feed, "--format", "json", "--dask", client.scheduler.address
            )
            assert on_cluster == local
    finally:
        reset_plugin_manager()
        forget_modules("rulebook_dancers")


def test_a_worker_killed_mid_run_loses_and_duplicates_no_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test kills a worker process (SIGKILL) after the first partition is written; Dask runs
    its partitions again on the other worker (and on the one the nanny restarts), and the report
    is the local one, byte for byte."""
    monkeypatch.chdir(tmp_path)
    files = write_feed(tmp_path / "feed", 20_000, files=2)
    local = run("check", RB, *files, "--format", "json", "--jobs", "1")[1]
    out = io.StringIO()
    with start_cluster() as cluster, Client(cluster) as client:
        assert check_killing_a_worker(client, out, RB, files, "zh")
    assert out.getvalue() == local


def test_diff_with_a_bare_id_compares_the_version_in_force_today(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``diff ID NEW --data ... --dask`` compares the version of ID in force today, as a local ``diff``
    does, not a version picked by each record's date as ``check`` picks it: payments of 2024 against
    today's 2025 version (at least 150) and a draft asking 120 change for amounts 120-149; had the
    2024 version (at least 100) decided them, none would change from 120 to 149."""
    monkeypatch.setenv("RULEBOOK_PATH", str(ROOT / "tests/data/versioned"))
    draft = tmp_path / "fees-draft.yaml"
    text = (ROOT / "tests/data/versioned/fees-2025.yaml").read_text(encoding="utf-8")
    draft.write_text(text.replace("value: 150", "value: 120"), encoding="utf-8")
    (tmp_path / "payment.schema.json").write_text(
        (ROOT / "tests/data/versioned/payment.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    data = tmp_path / "payments.jsonl"
    amounts = list(range(90, 170, 5))
    data.write_text(
        "".join(json.dumps({"id": f"P-{a}", "amount": a, "paid_on": "2024-06-01"}) + "\n" for a in amounts),
        encoding="utf-8",
    )
    argv = ("diff", "test/fees", str(draft), "--data", str(data), "--format", "json")
    local = run(*argv)
    dask = run(*argv, "--dask", client.scheduler.address)
    assert dask[0] == local[0] == 1, (local[2], dask[2])
    a, b = json.loads(local[1]), json.loads(dask[1])
    b.pop("rules_changed")
    assert a == b
    assert sorted(r["record"] for r in b["records"]) == sorted(f"P-{a}" for a in amounts if 120 <= a < 150)


# -- a plugin's record reader on the workers ---------------------------------------------------------------------

PSV_READER = '''"""Reads payments written one a line as ``id|amount|paid_on`` (``.psv`` files)."""

from engine.evaluate import InputRef
from engine.hookspecs import hookimpl
from engine.io.records import BadRecord


@hookimpl
def open_records(path, options):
    if not path.endswith(".psv") and options.input_format != "psv":
        return None
    return _read(path)


def _read(path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            cells = line.rstrip("\\n").split("|")
            if len(cells) != 3 or not cells[1].isdigit():
                yield InputRef(path, number), BadRecord("not id|amount|paid_on", "不是 id|amount|paid_on")
                continue
            yield InputRef(path, number), {"id": cells[0], "amount": int(cells[1]), "paid_on": cells[2]}
'''


@pytest.fixture(scope="module")
def psv_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin distribution ``rulebook-psv`` 0.2.0 whose ``open_records`` reads ``.psv`` files,
    installed with ``pip install --target SITE``."""
    work = tmp_path_factory.mktemp("psv")
    src = work / "src"
    (src / "rulebook_psv").mkdir(parents=True)
    (src / "rulebook_psv" / "__init__.py").write_text(PSV_READER, encoding="utf-8")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "rulebook-psv"\nversion = "0.2.0"\n\n'
        '[project.entry-points.rulebook]\npsv = "rulebook_psv"\n\n'
        '[tool.setuptools]\npackages = ["rulebook_psv"]\n',
        encoding="utf-8",
    )
    site = work / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(site), str(src)], check=True, capture_output=True, env=clean_env(), timeout=300
    )
    return site


def test_a_plugin_record_reader_reads_on_the_workers(
    psv_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that a plugin's ``open_records`` reads locally is read by the same plugin on the
    workers (the same records, errors and lines as a local ``check``, with the format given or
    told by the name); workers without the plugin stop the run with a message naming the plugin
    and the file, in the run's language, and nothing is read another way."""
    rulebook = str(ROOT / "tests/data/versioned/fees-2025.yaml")
    data = tmp_path / "payments.psv"
    rows = [f"P-{i}|{100 + 7 * i}|2025-0{1 + i % 9}-01" for i in range(30)]
    rows[11] = "P-11|eleven|2025-03-01"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    renamed = tmp_path / "payments.txt"
    renamed.write_bytes(data.read_bytes())
    monkeypatch.chdir(tmp_path)
    with start_cluster() as bare, Client(bare) as client:  # started before the plugin is installed
        monkeypatch.syspath_prepend(str(psv_site))
        monkeypatch.setenv("PYTHONPATH", str(psv_site))
        monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "rulebook-psv")
        reset_plugin_manager()
        try:
            assert run("check", rulebook, "payments.psv", "--format", "json")[1]  # read here by the plugin
            for lang, words in (
                ("en", "has no plugin `psv` (rulebook-psv 0.2.0), which reads `payments.psv`"),
                ("zh", "上没有读取 `payments.psv` 所需的插件 `psv`（rulebook-psv 0.2.0）"),
            ):
                code, out, err = run(
                    "check", rulebook, "payments.psv", "--dask", client.scheduler.address, "--lang", lang
                )
                assert code == 2 and out == "", err
                assert words in err and "pip install rulebook-psv==0.2.0" in err and "Traceback" not in err
        finally:
            reset_plugin_manager()
    try:
        reset_plugin_manager()
        with start_cluster() as cluster, Client(cluster) as client:  # the workers see the installed plugin
            for argv in (("payments.psv",), ("payments.txt", "--input-format", "psv")):
                local = run("check", rulebook, *argv, "--format", "json", "--lang", "en")
                assert local[0] == 1 and len(local[1].splitlines()) == 30
                assert '"line": 12' in local[1] and "not id|amount|paid_on" in local[1]
                assert (
                    run(
                        "check", rulebook, *argv, "--format", "json", "--lang", "en", "--dask", client.scheduler.address
                    )
                    == local
                )
            bag = check_bag(rulebook, read_records("payments.psv"), lang="en").compute()
            assert bag == [
                json.loads(line)
                for line in run("check", rulebook, "payments.psv", "--format", "json", "--lang", "en")[1].splitlines()
            ]
    finally:
        reset_plugin_manager()
        forget_modules("rulebook_psv")
