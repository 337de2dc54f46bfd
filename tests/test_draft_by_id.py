"""A draft is tested by its id; check and explain keep refusing a draft named without its version."""

from __future__ import annotations

import io

from engine.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_rulebook_test_by_id_tests_the_latest_draft() -> None:
    code, out, err = run("test", "hcm-student-union/charter", "--lang", "en")
    assert code == 0, out + err
    assert "hcm-student-union/charter@2021-11" in out
    assert "0 failed" in out


def test_check_and_explain_refuse_a_draft_named_by_id_and_say_how_to_name_it() -> None:
    for command in ("check", "explain"):
        code, _, err = run(command, "hcm-student-union/charter", "examples/hcm-2021/school-union.json", "--lang", "en")
        assert code == 2
        assert "only a draft" in err and "`hcm-student-union/charter@2021-11`" in err
        code, _, err = run(command, "hcm-student-union/charter", "examples/hcm-2021/school-union.json")
        assert code == 2 and "只有草案" in err and "`hcm-student-union/charter@2021-11`" in err


def test_a_draft_named_with_its_version_is_used() -> None:
    code, out, err = run(
        "check",
        "hcm-student-union/charter@2021-11",
        "examples/hcm-2021/presidium-election.json",
        "--decision",
        "election",
        "--lang",
        "en",
    )
    assert code in (0, 1), err
    assert "record" in out
