"""rulebook-dancers: an example plugin package for rulebook-engine.

What a sister association would ship to use the engine without forking it:

- a rulebook, ``hlj-dancers/membership`` (admission of individual members of a
  provincial dancers' association), with its record schema next to it;
- a condition-language function, ``lead_roles(performances, since)``;
- a working-day calendar, ``dance-college``: a dance college's academic
  calendar of semesters, with the functions ``semester_of(date)`` and
  ``semesters_before(date, n)`` that rules use to look at "the two semesters
  before" an application;
- an output format, ``check --format csv``: one summary row per record.

The engine finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.rulebook]
    dancers = "rulebook_dancers"
"""

from __future__ import annotations

from pathlib import Path

from engine import hookimpl
from engine.hookspecs import RegisterCalendar, RegisterFormat, RegisterFunction, RegisterRulebook

__version__ = "0.1.0"

HERE = Path(__file__).resolve().parent


# [docs:register_rulebooks]
@hookimpl
def register_rulebooks(register: RegisterRulebook) -> None:
    # The folder is searched for *.yaml; the record schema the rulebook names
    # (`record: dancer-applicant.schema.json`) is read next to it.
    register(HERE / "rulebooks")


# [/docs]


# [docs:register_functions]
@hookimpl
def register_functions(register: RegisterFunction) -> None:
    from rulebook_dancers.functions import LEAD_ROLES, SEMESTER_OF, SEMESTERS_BEFORE

    register(LEAD_ROLES)
    register(SEMESTER_OF)
    register(SEMESTERS_BEFORE)


# [/docs]


# [docs:register_calendars]
@hookimpl
def register_calendars(register: RegisterCalendar) -> None:
    from rulebook_dancers.semesters import AcademicCalendar

    register(AcademicCalendar("dance-college"))


# [/docs]


# [docs:register_formats]
@hookimpl
def register_formats(register: RegisterFormat) -> None:
    from rulebook_dancers.csvreport import CsvReport

    register("csv", CsvReport)


# [/docs]
