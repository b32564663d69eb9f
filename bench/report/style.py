"""One look for every chart of every run: a colour per server, a marker and a
hatch per view style, so a reader learns them once."""

SERVER_COLOURS = {
    "gunicorn-sync": "#8c564b",
    "gunicorn-gthread": "#1f77b4",
    "uvicorn": "#d62728",
    "gunicorn-uvicorn": "#ff7f0e",
    "gunicorn-asgi": "#9467bd",
    "granian-asgi": "#2ca02c",
    "granian-wsgi": "#17becf",
    "hypercorn": "#e377c2",
    "daphne": "#7f7f7f",
}
STYLE_MARKERS = {"sync": "s", "async": "o", "own": "D"}  # own: a user's site
STYLE_HATCHES = {"sync": "", "async": "//", "own": ""}
FALLBACK_COLOUR = "#444444"


def colour(server: str) -> str:
    return SERVER_COLOURS.get(server, FALLBACK_COLOUR)
