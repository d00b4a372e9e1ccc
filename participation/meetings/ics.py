"""A small iCalendar (RFC 5545) writer for one meeting.

What the RFC asks and this does: CRLF line endings (§3.1); content lines folded at 75
octets, never inside a UTF-8 sequence, continued with CRLF + one space (§3.1); TEXT values
escaped — backslash, semicolon, comma, newline as ``\\n`` (§3.3.11); UTC date-times with a
trailing ``Z`` (§3.3.5); the required VCALENDAR properties PRODID and VERSION (§3.6) and
VEVENT properties UID and DTSTAMP (§3.6.1); a cancelled meeting is ``STATUS:CANCELLED``
with a higher SEQUENCE so calendars update the copy they imported.
"""

from __future__ import annotations

from datetime import UTC, datetime

PRODID = "-//Pnyx//Reunions publiques//FR"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets (the first line) and 74 plus
    the leading space (the next ones), on character boundaries."""
    out: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current = " "
            size = 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def format_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_calendar(
    *,
    uid: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    location: str | None = None,
    url: str | None = None,
    cancelled: bool = False,
    sequence: int = 0,
    stamp: datetime | None = None,
) -> str:
    """The whole ``.ics`` file for one event."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{format_utc(stamp or datetime.now(UTC))}",
        f"DTSTART:{format_utc(starts_at)}",
        f"DTEND:{format_utc(ends_at)}",
        f"SUMMARY:{escape_text(title)}",
        f"SEQUENCE:{int(sequence)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if url:
        lines.append(f"URL:{url}")  # a URI value: not TEXT-escaped
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
