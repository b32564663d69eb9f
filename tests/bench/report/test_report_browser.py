"""report.html in a real browser: every image loads and nothing overflows.

Needs Debian's chromium (``.ci/run`` installs it). Without it the test skips
with the reason, except under CI=true, where it must run.
"""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.report import build as report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
# A committed full `make bench`: the report a new user first opens.
RUNS = Path(__file__).resolve().parents[3] / "docs" / "runs"
FULL_RUN = RUNS / "20261202T072517Z-bench"
SITE_RUN = RUNS / "20261202T074042Z-site"  # a user's site: its own verdict and hops too
CHECK = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter((i) => !i.complete || i.naturalWidth === 0).length;
  const limit = window.innerWidth + 1;
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => !e.closest(".scroll") && e.getBoundingClientRect().right > limit)
    .map((e) => e.tagName + "." + e.className);
  const top = (selector) => {
    const found = document.querySelector(selector);
    return found ? found.getBoundingClientRect().top : null;
  };
  document.body.setAttribute("data-check", JSON.stringify({
    images: images.length, broken: broken, pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth, wide: wide.slice(0, 5), height: window.innerHeight,
    answers: top("ul.answers"), forest: top("#forest img"),
  }));
});
</script>
"""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true this test must run")
        pytest.skip(reason)
    return found


def check_page(page: str, tmp_path: Path, width: int, height: int = 900) -> dict:
    """Load ``page`` in headless Chromium at ``width`` x ``height`` and return
    what the CHECK script saw."""
    browser = chromium()
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK + "</body>"))
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    window = f"--window-size={width},{height}"
    result = subprocess.run(
        [browser, *FLAGS, profile, window, "--dump-dom", checked.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'data-check="([^"]+)"', result.stdout)
    assert match, f"the page never finished loading: {result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


@pytest.mark.live
def test_the_check_catches_a_broken_image_and_an_overflow(tmp_path):
    page = (
        "<!DOCTYPE html><html><body><img src='data:image/png;base64,AAAA'>"
        "<div style='width: 3000px'>too wide</div></body></html>"
    )
    check = check_page(page, tmp_path, 1280)
    assert check["broken"] == 1
    assert check["pageWidth"] > check["viewport"] and check["wide"]


@pytest.mark.live
@pytest.mark.parametrize("width", [1280, 800])
def test_every_image_loads_and_nothing_overflows(tmp_path, width):
    run = tmp_path / "run_a"
    shutil.copytree(FIXTURES / "run_a", run)
    built = report.build(run)
    check = check_page((run / "report.html").read_text(), tmp_path, width)
    assert check["images"] == len(built.charts) > 0
    assert check["broken"] == 0
    assert check["pageWidth"] <= check["viewport"], check
    assert check["wide"] == []


@pytest.mark.live
def test_the_check_sees_an_answer_below_the_fold(tmp_path):
    page = (
        "<!DOCTYPE html><html><body><div style='height: 2000px'></div>"
        "<ul class='answers'><li>late</li></ul></body></html>"
    )
    check = check_page(page, tmp_path, 1280, 800)
    assert check["answers"] >= check["height"] and check["forest"] is None


@pytest.mark.live
@pytest.mark.parametrize(
    "run_dir", [FIXTURES / "run_a", FULL_RUN, SITE_RUN], ids=["run_a", "full-bench", "site"]
)
def test_the_answer_and_its_forest_plot_are_on_the_first_screen(tmp_path, run_dir):
    """At a common laptop viewport, the answer's sentences and the forest plot of
    their ratios start above the fold: a reader sees the answer before scrolling."""
    run = tmp_path / run_dir.name
    shutil.copytree(run_dir, run)
    report.build(run)
    check = check_page((run / "report.html").read_text(), tmp_path, 1280, 800)
    assert check["height"] > 0
    assert check["answers"] is not None and check["answers"] < check["height"], check
    assert check["forest"] is not None and check["forest"] < check["height"], check
