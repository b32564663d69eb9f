"""The cost window's wrapper, inside a process of its own as in a server."""

import json
import subprocess
import sys

from bench import ROOT

# Run in a child: the wrapper reads its variables at first access and caches
# what it built, as a server process does once.
PROGRAM = r"""
import asyncio, gc, json, sys
import bench.cost.in_server.window as window

def inner_wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"page " + environ["PATH_INFO"].encode()]

async def inner_asgi(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page " + scope["path"].encode()})

sys.modules["fake_site"] = type(sys)("fake_site")
sys.modules["fake_site"].wsgi = inner_wsgi
sys.modules["fake_site"].asgi = inner_asgi

out = {}
def start_response(status, headers):
    out.setdefault("statuses", []).append(status)

app = window.wsgi_application
out["page"] = b"".join(app({"PATH_INFO": "/json"}, start_response)).decode()
gc.disable()  # no collection but the one begin makes
before = json.loads(b"".join(app({"PATH_INFO": "/__djbench__/cost/begin"}, start_response)))
after = json.loads(b"".join(app({"PATH_INFO": "/__djbench__/cost/end"}, start_response)))
again = json.loads(b"".join(app({"PATH_INFO": "/__djbench__/cost/begin"}, start_response)))
b"".join(app({"PATH_INFO": "/__djbench__/cost/nothing"}, start_response))
out["wsgi"] = [before, after, again]

sent = []
async def send(message):
    sent.append(message)
async def main():
    asgi = window.asgi_application
    await asgi({"type": "http", "path": "/async/json"}, None, send)
    await asgi({"type": "http", "path": "/__djbench__/cost/begin"}, None, send)
asyncio.run(main())
out["asgi"] = [
    (m.get("status"), m.get("body", b"").decode()) for m in sent
]
print(json.dumps(out))
"""


def run_wrapper() -> dict:
    env = {"BENCH_COST_WSGI": "fake_site:wsgi", "BENCH_COST_ASGI": "fake_site:asgi"}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), **env},
        check=True,
    )
    return json.loads(result.stdout)


def test_pages_pass_through_and_begin_makes_exactly_one_full_collection():
    out = run_wrapper()
    assert out["page"] == "page /json"
    before, after, again = out["wsgi"]
    assert before["pid"] == after["pid"] > 0
    # begin collected every generation once (gc.collect is a full collection);
    # end collected nothing; the next begin one more full collection.
    assert after["collections"] == before["collections"]
    assert again["collections"][2] == after["collections"][2] + 1
    assert out["statuses"] == ["200 OK", "200 OK", "200 OK", "200 OK", "404 Not Found"]
    page, (start_status, _), (_, body) = (out["asgi"][:2], out["asgi"][2], out["asgi"][3])
    assert page == [[200, ""], [None, "page /async/json"]]
    assert start_status == 200
    assert json.loads(body)["collections"][2] >= 1
