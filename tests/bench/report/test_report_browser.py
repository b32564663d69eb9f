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
CHECK = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter((i) => !i.complete || i.naturalWidth === 0).length;
  const limit = window.innerWidth + 1;
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => !e.closest(".scroll") && e.getBoundingClientRect().right > limit)
    .map((e) => e.tagName + "." + e.className);
  document.body.setAttribute("data-check", JSON.stringify({
    images: images.length, broken: broken, pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth, wide: wide.slice(0, 5),
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


def check_page(page: str, tmp_path: Path, width: int) -> dict:
    """Load ``page`` in headless Chromium and return what the CHECK script saw."""
    browser = chromium()
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK + "</body>"))
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    window = f"--window-size={width},900"
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
