"""The middleware stacks a server can be started with (``BENCH_STACK``).

Each stack is a plain list of import strings so that settings, tests and the
README read the same table. The custom stacks do identical work (one header
each) so that only their sync/async mode differs between them.
"""

DJANGO_DEFAULT = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

STACKS: dict[str, list[str]] = {
    "none": [],
    "django": DJANGO_DEFAULT,
    "sync": [
        "project.middleware.SyncOnlyHeader1",
        "project.middleware.SyncOnlyHeader2",
        "project.middleware.SyncOnlyHeader3",
    ],
    "async": [
        "project.middleware.AsyncOnlyHeader1",
        "project.middleware.AsyncOnlyHeader2",
        "project.middleware.AsyncOnlyHeader3",
    ],
    "mixed": [
        "project.middleware.AsyncOnlyHeader1",
        "project.middleware.SyncOnlyHeader2",
        "project.middleware.AsyncOnlyHeader3",
    ],
}

DEFAULT_STACK = "django"


def middleware_for(name: str) -> list[str]:
    """Return the MIDDLEWARE list of a stack, or fail naming the valid ones."""
    try:
        return list(STACKS[name])
    except KeyError:
        valid = ", ".join(STACKS)
        raise ValueError(f"unknown BENCH_STACK {name!r}; valid stacks: {valid}") from None
