"""The ``email`` section of feed.yaml -> :class:`EmailConfig`, every problem at once.

Input: the raw ``email`` mapping (plain data) with its :class:`~digest.yamlsrc.Source`.
Output: a typed :class:`EmailConfig` (None when the section is absent) and the list
of problems. Declared with the option types of :mod:`digest.options`; the defaults
are those of the dataclasses below. Message building is :mod:`digest.mail`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from digest.addresses import address_problem
from digest.errors import Problem
from digest.options import (
    Flag,
    ListOf,
    Number,
    Problems,
    Section,
    Text,
    Whole,
    address,
    choice,
    url,
)
from digest.yamlsrc import Source

HTML_BYTES = (10_000, 10_000_000)
"""Range of ``max_html_bytes``: below 10 kB no paper fits; many servers refuse
messages past 10-25 MB."""
SMTP_TIMEOUT = (1, 600)
"""Seconds for connecting and each reply (RFC 5321 suggests 5 to 10 minutes at most)."""
SMTP_BACKOFF = (0, 300)
SMTP_RETRIES = (0, 8)
"""With the largest backoff, 8 doubling retries wait under a day in all: a daily cron
run never overlaps the next one because of mail."""
SECURITY_PORTS = {"none": 25, "starttls": 587, "tls": 465}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The ``email.smtp`` section: how to reach the outgoing server."""

    host: str = "localhost"
    port: int = 587
    """Default by ``security``: 25 (none), 587 (starttls), 465 (tls)."""
    security: str = "starttls"
    """``none``, ``starttls`` or ``tls`` (implicit TLS from the first byte)."""
    username: str | None = None
    """Log in when set; the password comes from the environment variable ``password_env``."""
    password_env: str | None = None
    """Name of the environment variable holding the password (never the password)."""
    timeout: float = 30.0
    """Seconds for connecting and for each server reply."""
    retries: int = 3
    """Further attempts after a temporary (4xx or connection) failure."""
    backoff: float = 5.0
    """Seconds before the first retry; doubled for each further one."""


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """The validated ``email`` section."""

    sender: str
    """The From header (``Name <addr>``), key ``from``."""
    list_id: str
    """List-Id label, like ``efficient-ml.digest.example.org``."""
    unsubscribe: tuple[str, ...]
    """List-Unsubscribe URIs (``https:`` and/or ``mailto:``)."""
    to: tuple[str, ...] = ()
    """Default recipients (``--to`` overrides)."""
    enabled: bool = False
    """Send from ``digest run`` (cron); ``digest send`` works either way."""
    max_html_bytes: int = 100_000
    """Budget for the HTML part (Gmail clips messages past ~102 KB)."""
    smtp: SmtpConfig = field(default_factory=SmtpConfig)


def _host_problem(host: str) -> str | None:
    if not host or _CONTROL.search(host) or " " in host:
        return f"expected a host name, got the text {host!r}"
    return None


def _uri_problem(uri: str) -> str | None:
    if re.match(r"^(https://[!-~]+|mailto:[!-~]+)$", uri) and len(uri) <= 900 and "<" not in uri:
        return None
    return f"expected an https: or mailto: URI without spaces, got the text {uri!r}"


def _env_problem(name: str) -> str | None:
    if _ENV_NAME.match(name):
        return None
    return f"expected an environment variable name, got the text {name!r}"


_URI = "an https: or mailto: URI without spaces"
EMAIL = Section(
    options={
        "enabled": Flag(),
        "from": address(
            "one address like 'Digest <d@example.org>'", address_problem, required=True
        ),
        "to": ListOf(
            item=address("one email address", address_problem),
            expected="a list of addresses",
        ),
        "list_id": url(
            "a dotted label like 'news.example.org'",
            r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
            shown_as=lambda text: f"the text {text!r}",
            required=True,
        ),
        "unsubscribe": ListOf(
            item=Text(expected=_URI, test=_uri_problem),
            empty="expected an https: or mailto: URI (or a list of them)",
            required=True,
        ),
        "max_html_bytes": Whole(low=HTML_BYTES[0], high=HTML_BYTES[1]),
    },
    extra={"smtp"},
    names={"from": "sender"},
)
"""The ``email`` section, filling :class:`EmailConfig` (``smtp`` is read by :data:`SMTP`)."""

SMTP = Section(
    options={
        "host": Text(expected="a host name", test=_host_problem),
        "security": choice(*SECURITY_PORTS, expected="none, starttls or tls"),
        "port": Whole(low=1, high=65535, expected="a port number 1-65535"),
        "username": Text(
            test=lambda name: None if name else "expected text, got the text ''", optional=True
        ),
        "password_env": Text(
            expected="an environment variable name", test=_env_problem, optional=True
        ),
        "timeout": Number(low=SMTP_TIMEOUT[0], high=SMTP_TIMEOUT[1], what="a number of seconds"),
        "backoff": Number(low=SMTP_BACKOFF[0], high=SMTP_BACKOFF[1], what="a number of seconds"),
        "retries": Whole(low=SMTP_RETRIES[0], high=SMTP_RETRIES[1]),
    },
    special={
        "password": "never put the password in feed.yaml: name an environment variable "
        "in 'password_env' and set the password there"
    },
)
"""The ``email.smtp`` section, filling :class:`SmtpConfig`."""


def parse_email_config(raw: Any, source: Source) -> tuple[EmailConfig | None, list[Problem]]:
    """Validate the ``email`` mapping; None when the section is absent. Every problem at once."""
    if raw is None:
        return None, []
    problems = Problems(source)
    values = EMAIL.check(raw, ("email",), problems)
    if not isinstance(values, dict):
        return None, problems.found
    if values.get("enabled") and not raw.get("to"):
        problems.bad(("email", "to"), "list at least one recipient when 'enabled' is true")
    smtp = _smtp(raw.get("smtp", {}), problems)
    if problems:
        return None, problems.found
    return EmailConfig(**values, smtp=smtp), []


def _smtp(raw: Any, problems: Problems) -> SmtpConfig:
    path = ("email", "smtp")
    values = SMTP.check({} if raw is None else raw, path, problems)
    if not isinstance(values, dict):
        return SmtpConfig()
    security = values.get("security", "starttls")
    values.setdefault("port", SECURITY_PORTS[security])
    username, host = values.get("username"), values.get("host", "localhost")
    if username and not values.get("password_env") and "password_env" not in raw:
        message = "name the environment variable holding the password for 'username'"
        problems.bad((*path, "password_env"), message)
    if username and security == "none" and host not in LOCAL_HOSTS:
        message = "'none' would send the password in clear text; use starttls or tls"
        problems.bad((*path, "security"), message)
    return SmtpConfig(**values)


EMAIL_KEYS = frozenset({*EMAIL.options, *EMAIL.extra})
"""Every key the ``email`` section knows."""
SMTP_KEYS = frozenset(SMTP.options)
"""Every key the ``email.smtp`` section knows."""
