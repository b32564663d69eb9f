"""The load generator's own ceiling: GET / as fast as one locust process can.

Served by ``project.bare:app`` (no Django), so the server costs next to
nothing and the rate reached is locust's, on the CPUs the run gives it.
"""

from locust import FastHttpUser, task


class CeilingUser(FastHttpUser):
    """Keep-alive connections, as most servers allow."""

    @task
    def request(self) -> None:
        self.client.get("/", name="ceiling")


class CloseCeilingUser(FastHttpUser):
    """A new connection per request, as gunicorn's sync worker forces."""

    @task
    def request(self) -> None:
        self.client.get("/", name="ceiling", headers={"Connection": "close"})
