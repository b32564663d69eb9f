"""Your own pages: GET requests over the paths given with ``--path``, by weight.

The scenario ``bench run --project`` generates when no ``--locustfile`` is
given. The paths and weights come from ``BENCH_SITE_PATHS`` (a JSON list of
``[path, weight]``), so this file stays a plain locustfile:
``BENCH_SITE_PATHS='[["/", 1]]' locust -f bench/site/in_locust/locustfile.py -H http://127.0.0.1:8000``.

Redirects are not followed: a path that answers 302 is measured as its own
answer (what that URL costs your server), not as the page it points to;
give the target page its own ``--path`` to measure it.
"""

import json
import os
import random

from locust import FastHttpUser, task

PATHS_VARIABLE = "BENCH_SITE_PATHS"


def weighted_paths() -> tuple[list[str], list[float]]:
    pairs = json.loads(os.environ.get(PATHS_VARIABLE) or '[["/", 1]]')
    return [str(path) for path, _ in pairs], [float(weight) for _, weight in pairs]


class SitePagesUser(FastHttpUser):
    """One GET at a time, no think time; each path is its own row in locust's statistics."""

    paths, weights = weighted_paths()

    @task
    def get_page(self) -> None:
        (path,) = random.choices(self.paths, self.weights)
        with self.client.get(
            path, name=path, allow_redirects=False, catch_response=True
        ) as response:
            if 200 <= response.status_code < 400:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
