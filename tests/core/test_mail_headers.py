"""``List-Unsubscribe`` leaves as a plain header value (issue 13 §6).

Python's default e-mail policy wrote any URL longer than a header line as RFC 2047
encoded-words (``=?utf-8?q?=3Chttps=3A//…?=``): no mail provider decodes that header, so the
one-click unsubscribe of RFC 8058 did not work. The test reads the bytes that smtplib sends.
"""

from __future__ import annotations

import io
from email import policy
from email.generator import BytesGenerator
from email.parser import BytesParser

import pytest

from core.mail import Message, build_email

LONG_URL = (
    "https://mulhouse.pnyx.localhost:5000/notifications/desabonnement/"
    "IjEyMzQ1Njc4OTAi.Z2pNxw.aGVsbG8td29ybGQtdGhpcy1pcy1hLWxvbmctdG9rZW4tdmFsdWU,x=1"
)
UNSUBSCRIBE = f"<{LONG_URL}>, <mailto:desabonnement@pnyx.localhost?subject=stop>"


def wire_bytes(headers: dict[str, str]) -> bytes:
    """The message as smtplib.send_message puts it on the wire (CRLF line ends)."""
    email = build_email(
        Message(
            to="camille.martin@example.fr",
            subject="Votre résumé de la semaine à Mulhouse",
            text="Bonjour Camille, voici les nouveautés.",
            html="<p>Bonjour Camille, voici les nouveautés.</p>",
            headers=headers,
        ),
        "Pnyx <ne-pas-repondre@pnyx.localhost>",
    )
    out = io.BytesIO()
    BytesGenerator(out).flatten(email, linesep="\r\n")
    return out.getvalue()


def header_block(raw: bytes, name: str) -> str:
    """The header's lines as they are in the raw message (with its folding)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = head.split("\r\n")
    for index, line in enumerate(lines):
        if line.lower().startswith(name.lower() + ":"):
            block = [line]
            for following in lines[index + 1 :]:
                if not following.startswith((" ", "\t")):
                    break
                block.append(following)
            return "\r\n".join(block)
    raise AssertionError(f"no {name} header in {head!r}")


def test_list_unsubscribe_is_sent_as_a_plain_header_value():
    raw = wire_bytes(
        {"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    )
    block = header_block(raw, "List-Unsubscribe")
    assert "=?" not in block  # no RFC 2047 encoded-word
    # Folded only between the two URLs; each URL whole on its line.
    assert block == (
        f"List-Unsubscribe: <{LONG_URL}>,\r\n <mailto:desabonnement@pnyx.localhost?subject=stop>"
    )
    assert header_block(raw, "List-Unsubscribe-Post") == (
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    )
    # What a receiving provider parses: the URL exactly.
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert " ".join(parsed["List-Unsubscribe"].split()) == UNSUBSCRIBE
    # The other headers still follow the usual encoding rules (a non-ASCII subject).
    assert parsed["Subject"] == "Votre résumé de la semaine à Mulhouse"
    assert b"=?utf-8?q?r=C3=A9sum" in raw.split(b"\r\n\r\n", 1)[0]


def test_a_single_long_url_is_not_encoded_either():
    raw = wire_bytes({"List-Unsubscribe": f"<{LONG_URL}>"})
    assert header_block(raw, "List-Unsubscribe") == f"List-Unsubscribe: <{LONG_URL}>"


@pytest.mark.parametrize("value", [f"<{LONG_URL}>\r\nBcc: victime@example.org", "<https://é.fr>"])
def test_a_plain_header_never_carries_a_line_break_or_non_ascii(value):
    with pytest.raises(ValueError):
        wire_bytes({"List-Unsubscribe": value})
