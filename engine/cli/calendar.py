"""``rulebook calendar show YEAR``: what the engine believes about a year of a working-day calendar.

For each day that is not a plain weekday (working) or weekend day (off) it prints whether the
day is off or worked and where that comes from: the ``holidays`` package, an arrangement file
(named), or, for a year whose arrangement is not published, which days are certain (the
statutory holidays) and which may still go either way.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from typing import Any

from engine.errors import Diagnostic, UsageError
from engine.messages import Text

__all__ = ["add_calendar_parser", "cmd_calendar", "year_report"]

_WEEKDAY_ZH = "一二三四五六日"
_STATUS = {
    "off": ("放假", "off"),
    "working": ("上班", "working"),
    "may be off": ("可能放假", "may be off"),
    "may be worked": ("可能调休上班", "may be worked"),
}


def add_calendar_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "calendar",
        parents=[common],
        help=Text("what the engine knows of a working-day calendar", "引擎所知的工作日日历"),
    )
    csub = p.add_subparsers(dest="calendar_command", metavar="ACTION", parser_class=type(p))
    show = csub.add_parser(
        "show",
        parents=[common],
        help=Text(
            "the days off and make-up working days of a year, and where each comes from",
            "某一年的放假日和调休上班日，以及各自的来源",
        ),
    )
    show.add_argument("year", type=int, metavar="YEAR", help=Text("the year, e.g. 2027", "年份，例如 2027"))
    show.add_argument(
        "--calendar",
        default="CN",
        metavar="NAME",
        help=Text(
            "the calendar (default CN, the official calendar of mainland China)",
            "日历（默认 CN，即中国大陆的官方日历）",
        ),
    )
    show.add_argument(
        "--format", choices=("text", "json"), default="text", help=Text("text (default) or json", "text（默认）或 json")
    )


def year_report(name: str, year: int) -> dict[str, Any]:
    """What the calendar ``name`` believes about ``year`` (see ``ChineseCalendar.describe_year``)."""
    from engine.calendars import CalendarRangeError
    from engine.pluginmanager import get_calendar, get_plugin_manager

    try:
        cal = get_calendar(name)
    except KeyError:
        names = ", ".join(f"`{n}`" for n in sorted(get_plugin_manager().calendars()))
        raise UsageError(
            Diagnostic(
                "usage.unknown-calendar",
                Text(f"no calendar named `{name}`", f"没有名为 `{name}` 的日历"),
                help=Text(f"calendars: {names}", f"已安装的日历：{names}"),
            )
        ) from None
    describe = getattr(cal, "describe_year", None)
    if describe is not None:
        report: dict[str, Any] = describe(year)  # a calendar that describes its own years
        return report
    # a plugin's calendar: ask it day by day
    days: list[dict[str, Any]] = []
    day = _dt.date(year, 1, 1)
    known = True
    while day.year == year:
        try:
            working = cal.is_working_day(day)
        except CalendarRangeError:
            known = False
            break
        if working != (day.weekday() < 5):
            days.append(
                {"date": day.isoformat(), "status": "working" if working else "off", "holiday": "", "origin": name}
            )
        day += _dt.timedelta(days=1)
    return {
        "calendar": name,
        "year": year,
        "known": known,
        "source": name if known else None,
        "days": days if known else [],
    }


def cmd_calendar(io: Any) -> int:
    args = io.args
    if getattr(args, "calendar_command", None) != "show":
        raise UsageError(
            Diagnostic(
                "usage.arguments",
                Text(
                    "say what to do with the calendar: `rulebook calendar show YEAR`",
                    "请指明对日历的操作：`rulebook calendar show YEAR`",
                ),
            )
        )
    if not 1 <= args.year <= 9998:
        raise UsageError(Diagnostic("usage.arguments", Text(f"`{args.year}` is not a year", f"`{args.year}` 不是年份")))
    report = year_report(args.calendar, args.year)
    if args.format == "json":
        io.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return 0
    io.stdout.write(render_text(report, io.lang))
    return 0


def render_text(report: dict[str, Any], lang: str) -> str:
    from engine.calendars import holiday_name_zh

    zh = lang == "zh"
    name, year = report["calendar"], report["year"]
    colon = "：" if zh else ": "
    lines = []
    if report["known"]:
        lines.append(
            f"{name} {year}{colon}"
            + (f"放假安排已知，来源：{report['source']}" if zh else f"arrangement known, from {report['source']}")
        )
    elif report.get("first_year") is not None:
        lines.append(
            f"{name} {year}{colon}"
            + (
                f"早于日历所知的第一年（{report['first_year']}）"
                if zh
                else f"before the first year the calendar knows ({report['first_year']})"
            )
        )
        return "\n".join(lines) + "\n"
    else:
        pkg = report.get("package")
        lines.append(
            f"{name} {year}{colon}"
            + (
                "尚无该年放假安排（国务院通知一般在上一年年底公布）" + (f"；{pkg} 没有该年的调休安排" if pkg else "")
                if zh
                else "the year's arrangement is not known (the State Council publishes it late in the year "
                "before)" + (f"; {pkg} does not have it" if pkg else "")
            )
        )
        lines.append(
            "法定节假日确定放假；标为“可能”的日期取决于尚未公布的安排，涉及这些日期的期限给出最早和最晚日期。"
            if zh
            else 'The statutory holidays are certainly off; the days marked "may" depend on the arrangement '
            "still to come, and deadlines that cross them give their earliest and latest days."
        )
    if report["days"]:
        lines.append("")
        for d in report["days"]:
            day = _dt.date.fromisoformat(d["date"])
            weekday = ("周" + _WEEKDAY_ZH[day.weekday()]) if zh else day.strftime("%a")
            status = _STATUS.get(d["status"], (d["status"], d["status"]))[0 if zh else 1]
            holiday = holiday_name_zh(d["holiday"]) if zh else d["holiday"]
            origin = d["origin"]
            if zh:
                origin = origin.replace("not published", "尚未公布").replace("statutory", "法定")
            lines.append(f"  {d['date']}  {_pad(weekday, 4)} {_pad(status, 14)} {_pad(holiday, 24)} {origin}".rstrip())
    elif report["known"]:
        lines.append("（全年只有普通的工作日和周末）" if zh else "(only plain weekdays and weekends all year)")
    if not report["known"]:
        lines.append("")
        lines.append(
            (
                "添加该年安排：把国务院通知录入为 calendars/{name}-{year}.yaml，放在规则集文件夹或 RULEBOOK_PATH "
                "文件夹中（格式见 docs/calendar.md）："
                if zh
                else "To add the year: type the State Council's notice as calendars/{name}-{year}.yaml in a rulebook "
                "folder or a RULEBOOK_PATH folder (the format is in docs/calendar.md):"
            ).format(name=name, year=year)
        )
        lines.append(
            _SAMPLE.format(
                name=name,
                year=year,
                prev=year - 1,
                comment="示例：日期以通知为准" if zh else "an example: type the notice's own dates",
            )
        )
    return "\n".join(lines) + "\n"


def _pad(text: str, width: int) -> str:
    from engine.source import display_width

    return text + " " * max(1, width - display_width(text))


_SAMPLE = """\
  # {comment}
  calendar: {name}
  year: {year}
  source: 国务院办公厅关于{year}年部分节假日安排的通知
  holidays:
    - name: 元旦
      off: {{from: "{year}-01-01", to: "{year}-01-03"}}
    - name: 春节
      off: {{from: "{year}-02-05", to: "{year}-02-13"}}
      work: ["{year}-01-31", "{year}-02-20"]"""
