"""One virtual environment per Django and asgiref release, cached, for the cost mode.

``--django 5.2.x 6.0.x 6.1.3 PATH`` and ``--asgiref 3.11.x 3.13.0`` name the
releases a cost run compares. Each spec resolves to one exact version before
anything is built: ``5.2.x`` (or ``5.2``) is the newest 5.2 on the package
index, ``6.1.3`` is itself, and a path on disk is a local Django checkout,
installed from there (a contributor's patch; recorded with its git commit).
An asgiref left unnamed is the harness's own, so that only Django moves.

Every combination gets its own environment under the user's cache
(``~/.cache/djbench/envs/<key>``), made with the harness's interpreter and
holding the harness's own pins of everything else a request runs (gunicorn,
uvicorn, uvloop, httptools, ...), so that two releases differ in Django or
asgiref alone. The key is a hash of the interpreter's version and every pin;
an environment is reused when its stamp, written last, is there, so a
half-built one is built again. A checkout's environment is rebuilt every run:
its code may have changed under the same path.

The servers then run with the environment's interpreter
(``ServerOptions.python``) and ``PYTHONPATH`` pointing at this repository,
which is how the bundled project and the window wrapper are imported; the
harness itself never runs there.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from bench.errors import BenchError, UsageError

# What a request runs besides Django and asgiref, at the harness's own versions,
# and what the bundled project imports (its outbound and database workloads).
SERVER_PACKAGES = (
    "gunicorn",
    "uvicorn",
    "uvloop",
    "httptools",
    "uvicorn-worker",
    "psutil",
    "httpx",
    "psycopg",
    "psycopg-binary",
    "psycopg-pool",
)
STAMP = "djbench-environment.json"
INSTALL_TIMEOUT = 900
_SERIES = re.compile(r"^(?P<series>\d+\.\d+)(?:\.x)?$")
_EXACT = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:(?:a|b|rc)\d+)?$")


class ReleaseError(BenchError):
    """A release that could not be resolved or installed; the message says which."""


@dataclass(frozen=True)
class Release:
    """One exact version of a package, or a checkout of it on disk."""

    package: str
    version: str  # the exact version, or the checkout's own (from its metadata)
    path: Path | None = None  # a local checkout
    commit: str | None = None  # its git commit, when it is a git checkout

    @property
    def requirement(self) -> str:
        return str(self.path) if self.path else f"{self.package}=={self.version}"

    @property
    def label(self) -> str:
        where = f" ({self.path.name}@{self.commit[:10]})" if self.path and self.commit else ""
        return f"{self.package} {self.version}{where}"


@dataclass(frozen=True)
class Environment:
    """A built environment: its interpreter and what it runs."""

    python: str
    django: Release
    asgiref: Release
    versions: dict[str, str]  # every package a request runs, as installed

    @property
    def label(self) -> str:
        return f"{self.django.label}, {self.asgiref.label}"


def cache_dir() -> Path:
    """Where environments are kept: ``$XDG_CACHE_HOME/djbench`` or ``~/.cache/djbench``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "djbench"


def index_versions(package: str, python: str = sys.executable) -> list[str]:
    """Every version of ``package`` on the index, newest first (pip's answer)."""
    try:
        found = subprocess.run(
            [python, "-m", "pip", "index", "versions", package, "--disable-pip-version-check"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReleaseError(f"asking the package index for {package} failed: {exc}") from None
    return parse_index(found.stdout, package)


def parse_index(text: str, package: str) -> list[str]:
    """The versions of ``pip index versions``'s "Available versions:" line."""
    for line in text.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    raise ReleaseError(f"the package index listed no versions of {package}")


def resolve(package: str, spec: str, available: list[str] | None = None) -> Release:
    """The release ``spec`` names: a series (newest of it), an exact version, a path."""
    path = Path(spec).expanduser()
    if "/" in spec or path.exists():
        return _checkout(package, path)
    series = _SERIES.match(spec)
    if series and (spec.endswith(".x") or spec.count(".") == 1):
        versions = available if available is not None else index_versions(package)
        prefix = series.group("series") + "."
        final = [v for v in versions if v.startswith(prefix) and re.fullmatch(r"[\d.]+", v)]
        if not final:
            raise UsageError(f"no {package} {spec} release on the package index")
        return Release(package, max(final, key=_numeric))
    if _EXACT.match(spec):
        versions = available if available is not None else index_versions(package)
        if spec not in versions:
            raise UsageError(f"{package} {spec} is not on the package index")
        return Release(package, spec)
    raise UsageError(
        f"--{package} {spec}: give a series (5.2.x), an exact version (6.1.3) or a checkout's path"
    )


def _numeric(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _checkout(package: str, path: Path) -> Release:
    """A local checkout of ``package``: its version from its own metadata, its commit."""
    if not (path / "pyproject.toml").exists() and not (path / "setup.py").exists():
        raise UsageError(f"--{package} {path}: not a checkout of {package} (no pyproject.toml)")
    version = "checkout"
    init = path / package / "__init__.py"
    if init.exists():
        match = re.search(r"^VERSION\s*=\s*\(([^)]*)\)", init.read_text(), re.M)
        if match:
            parts = [p.strip().strip("'\"") for p in match.group(1).split(",")]
            version = ".".join(parts[:3]) + (f"{parts[3]}" if parts[3:4] != ["final"] else "")
    commit = None
    try:
        found = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        commit = found.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return Release(package, version, path=path.resolve(), commit=commit)


def harness_release(package: str) -> Release:
    """The harness's own installed version of ``package``."""
    return Release(package, importlib_metadata.version(package))


def pins() -> list[str]:
    """The harness's own versions of every server package, as requirements."""
    return [f"{name}=={importlib_metadata.version(name)}" for name in SERVER_PACKAGES]


def key(django: Release, asgiref: Release) -> str:
    """The environment's cache key: the interpreter and every pin."""
    parts = [sys.version, django.requirement, asgiref.requirement, *pins()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def environment(django: Release, asgiref: Release, root: Path | None = None) -> Environment:
    """The environment of ``django`` and ``asgiref``: reused when complete, built when not."""
    directory = (root or cache_dir() / "envs") / key(django, asgiref)
    python = directory / "bin" / "python"
    stamp = directory / STAMP
    checkout = django.path is not None or asgiref.path is not None
    if stamp.exists() and python.exists() and not checkout:
        recorded = json.loads(stamp.read_text())
        return Environment(str(python), django, asgiref, dict(recorded["versions"]))
    if directory.exists():
        shutil.rmtree(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "venv", str(directory)], "creating the environment")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *pins(),
            asgiref.requirement,
            django.requirement,
        ],
        f"installing {django.label} and {asgiref.label}",
    )
    versions = installed(str(python))
    stamp.write_text(json.dumps({"versions": versions}, indent=2, sort_keys=True))
    return Environment(str(python), django, asgiref, versions)


def installed(python: str) -> dict[str, str]:
    """What the environment at ``python`` has of the packages a request runs."""
    names = ["django", "asgiref", *SERVER_PACKAGES]
    program = (
        "import json, sys\nfrom importlib import metadata\n"
        f"print(json.dumps({{n: metadata.version(n) for n in {names!r}}}))"
    )
    found = _run([python, "-c", program], "reading the environment's versions")
    return dict(json.loads(found))


def _run(argv: list[str], what: str) -> str:
    try:
        found = subprocess.run(
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=True
        )
    except subprocess.CalledProcessError as exc:
        lines = [line for line in (exc.stderr or exc.stdout or "").splitlines() if line.strip()]
        raise ReleaseError(f"{what} failed: {lines[-1] if lines else 'no output'}") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReleaseError(f"{what} failed: {exc}") from None
    return found.stdout


def combinations(
    django_specs: list[str] | None, asgiref_specs: list[str] | None
) -> list[tuple[Release, Release]]:
    """Every Django release with every asgiref release, in the order given;
    an unnamed package is the harness's own."""
    djangos = [resolve("django", spec) for spec in django_specs] if django_specs else None
    asgirefs = [resolve("asgiref", spec) for spec in asgiref_specs] if asgiref_specs else None
    return [
        (django, asgiref)
        for django in djangos or [harness_release("django")]
        for asgiref in asgirefs or [harness_release("asgiref")]
    ]
