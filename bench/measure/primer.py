"""Before a window: does the cell's page answer? And if not, what did the server log?

One request checks the endpoint before locust sends anything, so that a page
that fails is a failed repeat with the server's own exception named, never a
window of errors measured as a figure.
"""

import re

import httpx

from bench.serve import servers


def primer(url: str, application: servers.Application, timeout: float = 30) -> str | None:
    """One request to a cell's page; the reason it is unusable, or None.

    Redirects are not followed: a 3xx is the page's own answer, accepted only
    where the application allows it (a user's login redirect), and a 3xx has
    no body to check.
    """
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"primer request to {url} failed: {type(exc).__name__}"
    expected = "2xx or 3xx" if application.user_site else "200"
    if not application.answers(response.status_code):
        return f"primer request to {url} answered HTTP {response.status_code}, not {expected}"
    if response.status_code < 300 and not response.content:
        return f"primer request to {url} answered an empty body"
    return None


_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:: .*)?")


def logged_exception(log: str, limit: int = 200) -> str | None:
    """The exception line (``module.Name: message``) ending the last traceback
    of a server log, shortened to ``limit`` characters; None without one."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if not starts:
        return None
    for line in lines[starts[-1] + 1 :]:
        if line and not line[0].isspace() and _EXCEPTION_LINE.fullmatch(line.rstrip()):
            text = line.rstrip()
            return text if len(text) <= limit else text[: limit - 3] + "..."
    return None
