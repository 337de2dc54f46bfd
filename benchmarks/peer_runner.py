"""rulebook-engine as a runner of the peer-engines benchmark (``run_peers.py``).

How the work is expressed: nothing is written for the benchmark.  ``setup()``
loads the BUNDLED rulebook ``hlj-musicians/membership`` through the public API
(``engine.Registry.default().load(...)``; if that fails, the YAML file of the
checkout, ``rulebooks/hlj-musicians/membership.yaml`` next to this folder, via
``engine.load_rulebook``), and takes its decision ``admission``.  That one
parse + compile is all the one-off work (the decision's whole-decision function
is compiled when it is first evaluated, in the calibration pass).  ``evaluate()``
then calls ``CompiledDecision.evaluate(record)`` once per record, exactly as a
user of the Python API does, and reads the returned ``Decision``: its
``outcome`` and its rules' statuses, ``Decision.status_tuple`` (one ``Status``
per rule, in the order of ``CompiledDecision.rule_ids``; a ``RuleResult`` is
only built for a status other than pass/fail, to say why).  The evaluation date is the rulebook's own
``as_of: record.application_date``; absent optional fields mean "none"
because the rulebook (and the applicant schema behind it) says so; 29 Feb ->
28 Feb and the ban window ``E <= D < years_after(E, N)`` are the rulebook's
``full_years``/``years_after`` semantics.  No workaround was needed.

Mapping the rulebook's rule ids to the bench's nine checks:

* ``citizen``, ``in_province``, ``adult``, ``occupation``, ``introducers``,
  ``recommended``, ``qualification``: the rule of the same id, ``pass``;
* ``charter``: rules ``accepts_charter`` and ``self_applied`` both ``pass``
  (the rulebook keeps them apart: 赞成本会章程 and 由本人提出申请);
* ``not_banned``: rules ``withdrawal_ban``, ``expulsion_ban`` and
  ``dues_lapse_ban`` all ``pass`` (第十三条 items 1-3, one rule each);
* ``eligible``: the decision's outcome is ``pass``.

Each value is exactly ``True`` (pass) or ``False`` (fail).  Anything else is
reported as a string, so that the harness counts it as a disagreement instead
of hiding it: a rule whose status is ``error`` (or another status) gives
``"error: <code>: <message>"`` for its check, an ``indeterminate`` outcome
gives ``"outcome indeterminate"`` for ``eligible``, and an exception raised
by ``evaluate`` itself (which the engine promises never happens) gives
``"exception: <type>: <message>"`` for every key of that record.

What the engine does per record beyond the peers: the decision also runs its
five ``info`` rules (which of items 1-5 are met), its named values (the ban
lists are computed as filtered lists, not short-circuit booleans) and its
output ``reapply_not_before``, and returns a ``Decision`` whose 17
``RuleResult`` objects are built when ``rules`` is read (not here).  Messages
and the values a rule saw are computed lazily and are not paid for here
(``benchmarks/admission.py`` measures ``Decision.to_json()`` separately).

Importable from any working directory: if ``import engine`` fails, the
checkout's root (the parent of ``benchmarks/``) is put on ``sys.path``.  The
engine is imported with this module, so the harness's "import" column holds
the engine's import and "setup" the rulebook's load + compile.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PACKAGES = ("rulebook-engine",)
DESCRIPTION = "the bundled YAML rulebook hlj-musicians/membership, decision admission, via the engine's Python API"
OMITTED = ()

RULEBOOK_ID = "hlj-musicians/membership"
DECISION = "admission"
REPO_ROOT = Path(__file__).resolve().parent.parent
RULEBOOK_FILE = REPO_ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"

# bench check -> the rule ids that must all pass
CHECK_RULES: dict[str, tuple[str, ...]] = {
    "citizen": ("citizen",),
    "in_province": ("in_province",),
    "adult": ("adult",),
    "occupation": ("occupation",),
    "charter": ("accepts_charter", "self_applied"),
    "introducers": ("introducers",),
    "recommended": ("recommended",),
    "qualification": ("qualification",),
    "not_banned": ("withdrawal_ban", "expulsion_ban", "dues_lapse_ban"),
}
RESULT_KEYS = (*CHECK_RULES, "eligible")


try:
    import engine
except ImportError:  # run from elsewhere, engine not installed: use this checkout
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import engine


def load_decision() -> Any:
    """The compiled ``admission`` decision of the bundled rulebook."""
    try:
        book = engine.Registry.default().load(RULEBOOK_ID)
    except Exception as first:
        if not RULEBOOK_FILE.is_file():
            raise RuntimeError(
                f"cannot load {RULEBOOK_ID} from the registry ({first}) and {RULEBOOK_FILE} does not exist"
            ) from first
        book = engine.load_rulebook(RULEBOOK_FILE)
    # The other engines evaluate the same ten checks and validate nothing else: the comparison is of
    # rule evaluation, so the record schema is not checked here (schema enforcement `none`).
    # benchmarks/admission.py measures what checking it costs.
    return book.decision(DECISION).with_schema_enforcement("none")


def make_checks(decision: Any = None) -> Callable[[Any], dict[str, Any]]:
    """A function mapping one ``Decision`` of ``decision`` (default: ``load_decision()``) to the
    bench's result dict.

    It reads the rules' statuses from ``Decision.status_tuple`` (one ``Status`` per rule, in the
    order of ``CompiledDecision.rule_ids``), so no ``RuleResult`` is built.  When a status is
    anything but ``pass``/``fail`` it takes the general path, which explains it per check.
    """
    if decision is None:
        decision = load_decision()
    PASS, FAIL = engine.Status.PASS, engine.Status.FAIL
    O_PASS, O_FAIL = engine.Outcome.PASS, engine.Outcome.FAIL
    items = tuple(CHECK_RULES.items())
    index = {rid: i for i, rid in enumerate(decision.rule_ids)}
    wanted = tuple(rid for rule_ids in CHECK_RULES.values() for rid in rule_ids)
    # the twelve statuses the checks read, in CHECK_RULES order (unpacked below by name)
    assert wanted == (
        "citizen",
        "in_province",
        "adult",
        "occupation",
        "accepts_charter",
        "self_applied",
        "introducers",
        "recommended",
        "qualification",
        "withdrawal_ban",
        "expulsion_ban",
        "dues_lapse_ban",
    )
    pick = operator.itemgetter(*(index[rid] for rid in wanted)) if all(r in index for r in wanted) else None
    n = len(wanted)

    def not_bool(result: Any) -> str:
        if result is None:
            return "rule missing from the decision"
        err = result.error
        if err is not None:
            return f"{result.status}: {err.code}: {err.message}"
        return str(result.status)

    def eligible(outcome: Any) -> Any:
        return True if outcome is O_PASS else False if outcome is O_FAIL else f"outcome {outcome}"

    def general(decision: Any) -> dict[str, Any]:
        statuses = decision.statuses  # rule id -> Status
        out: dict[str, Any] = {}
        for check, rule_ids in items:
            value: Any = True
            for rid in rule_ids:
                s = statuses.get(rid)
                if s is PASS:
                    continue
                if s is FAIL:
                    value = False
                else:
                    value = not_bool(decision.rule(rid))
                    break
            out[check] = value
        out["eligible"] = eligible(decision.outcome)
        return out

    if pick is None:
        return general

    def checks(decision: Any) -> dict[str, Any]:
        st = pick(decision.status_tuple)
        if st.count(PASS) + st.count(FAIL) != n:  # an error, a waiver, a rule not applicable
            return general(decision)
        (
            citizen,
            province,
            adult,
            occupation,
            charter,
            self_applied,
            introducers,
            recommended,
            qualification,
            withdrawal,
            expulsion,
            dues_lapse,
        ) = st
        outcome = decision.outcome
        return {
            "citizen": citizen is PASS,
            "in_province": province is PASS,
            "adult": adult is PASS,
            "occupation": occupation is PASS,
            "charter": charter is PASS and self_applied is PASS,
            "introducers": introducers is PASS,
            "recommended": recommended is PASS,
            "qualification": qualification is PASS,
            "not_banned": withdrawal is PASS and expulsion is PASS and dues_lapse is PASS,
            "eligible": True if outcome is O_PASS else False if outcome is O_FAIL else f"outcome {outcome}",
        }

    return checks


def setup() -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    decision = load_decision()
    decide = decision.evaluate
    checks = make_checks(decision)

    def evaluate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        append = out.append
        for record in records:
            try:
                append(checks(decide(record)))
            except Exception as e:  # noqa: BLE001 - reported per record as a disagreement
                text = f"exception: {type(e).__name__}: {e}"
                append(dict.fromkeys(RESULT_KEYS, text))
        return out

    return evaluate
