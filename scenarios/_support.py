"""What every scenario file shares: the --style option and the base user.

Scenario files import this module (locust puts a locustfile's folder on
sys.path while importing it), so each one stays a plain locustfile:
``locust -f scenarios/<file>.py --host http://127.0.0.1:PORT --style sync``
runs it by hand, web UI included.
"""

import time

from locust import FastHttpUser, events, task

STYLES = ("sync", "async")


@events.init_command_line_parser.add_listener
def _add_style_option(parser) -> None:
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="async",
        help="which view variant to request: /sync/<endpoint> or /async/<endpoint>",
    )


def style_of(user: FastHttpUser) -> str:
    options = user.environment.parsed_options
    return getattr(options, "style", None) or "async"


class BenchUser(FastHttpUser):
    """Requests ``/<style>/<endpoint>`` in a closed loop, no think time."""

    abstract = True
    endpoint = ""

    def target(self) -> tuple[str, str]:
        """(path, name in the statistics)."""
        style = style_of(self)
        return f"/{style}/{self.endpoint}", f"{style}/{self.endpoint}"

    @task
    def run_once(self) -> None:
        self.request()

    def request(self) -> None:
        """One request; scenarios that time things themselves override this
        (not the task: locust would then run both)."""
        path, name = self.target()
        self.client.get(path, name=name)


def record(user: FastHttpUser, kind: str, name: str, started: float, length: int, error=None):
    """Report a time the scenario measured itself (locust's own events cannot)."""
    user.environment.events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=length,
        exception=error,
        context={},
    )
