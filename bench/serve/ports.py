"""Free loopback ports, and the rule that load only goes to loopback."""

import ipaddress
import socket
from urllib.parse import urlsplit

from bench.errors import UsageError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now on ``host``.

    Another process may still take it before our server binds it; servers that
    fail to bind are reported by their start-up check, and the harness then
    tries another port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names of localhost."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, *, allow_remote: bool) -> str:
    """The host of ``url``; refuses a non-loopback host unless explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"target must be an http:// or https:// URL with a host, got {url!r}")
    if not is_loopback_host(parts.hostname) and not allow_remote:
        raise UsageError(
            f"refusing to send load to {parts.hostname}: only loopback targets are allowed "
            "without --allow-remote-host"
        )
    return parts.hostname
