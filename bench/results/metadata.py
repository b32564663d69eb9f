"""What a run was measured with: versions, machine, git commit, settings.

Recorded in every run.json so that a comparison can say what differed, and
refuse or warn. Environment variables are recorded from an allow-list only:
the secret key and anything else in the environment never reach results.
"""

import os
import platform
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import psutil

from bench import ROOT
from bench.serve.database import redact_url

PACKAGES = (
    "django",
    "asgiref",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "httptools",
    "locust",
    "httpx",
    "psycopg",
    "psycopg-pool",
    "psutil",
    "numpy",
    "scipy",
    "matplotlib",
    "pyperf",
    "granian",
    "hypercorn",
    "daphne",
)

# The only environment variables a run records: those that shape what is measured.
ENV_ALLOWLIST = (
    "BENCH_STACK",
    "BENCH_DB_CONN",
    "BENCH_DB_POOL_SIZE",
    "BENCH_DB_CONN_MAX_AGE",
    "BENCH_SWITCH_ACCOUNTING",
    "DATABASE_URL",
    "PYTHONHASHSEED",
    "PYTHONMALLOC",
    "UV_THREADPOOL_SIZE",
    "CI",
)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(root: Path = ROOT) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(status) if status is not None else None,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def recorded_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if env is None else env)
    recorded = {key: env[key] for key in ENV_ALLOWLIST if key in env}
    if "DATABASE_URL" in recorded:
        recorded["DATABASE_URL"] = redact_url(recorded["DATABASE_URL"])
    return recorded


def collect() -> dict[str, Any]:
    """The machine and software a run is measured on."""
    memory = psutil.virtual_memory()
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": package_versions(),
        "git": git_state(),
        "machine": {
            "hostname": platform.node(),
            "cpu_model": cpu_model(),
            "logical_cpus": psutil.cpu_count(logical=True),
            "physical_cpus": psutil.cpu_count(logical=False),
            "memory_bytes": memory.total,
            "kernel": platform.release(),
            "platform": platform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "environment": recorded_environment(),
    }
