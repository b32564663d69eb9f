"""bench.site.in_server: exception_files and the app's listener, the exception behind a 500."""

import json

from django.core.signals import got_request_exception
from django.test import RequestFactory

from bench.site.in_server import app as site_app
from bench.site.in_server import exception_files


def test_the_first_exception_per_path_is_kept_and_the_file_stays_bounded(tmp_path):
    recorder = exception_files.Recorder(tmp_path, pid=7)
    recorder.record("/a", ValueError("first   one\nline"))
    recorder.record("/a", KeyError("later"))  # the first one of a path stays
    recorder.record("/b", OSError())
    for index in range(exception_files.MAX_PATHS + 5):
        recorder.record(f"/many/{index}", RuntimeError("x" * 1000))
    written = json.loads((tmp_path / "exceptions-7.json").read_text())
    assert written["/a"] == "ValueError: first one line"
    assert written["/b"] == "OSError"
    assert len(written) == exception_files.MAX_PATHS
    assert all(len(line) <= exception_files.LINE_LIMIT for line in written.values())
    assert exception_files.read(tmp_path) == written


def test_processes_are_merged_and_a_missing_or_corrupt_file_is_nothing(tmp_path):
    assert exception_files.read(tmp_path / "none") == {}
    (tmp_path / "exceptions-1.json").write_text(json.dumps({"/": "A: one"}))
    (tmp_path / "exceptions-2.json").write_text(json.dumps({"/": "B: two", "/x": "C: three"}))
    (tmp_path / "exceptions-3.json").write_text("{not json")
    assert exception_files.read(tmp_path) == {"/": "A: one", "/x": "C: three"}


def test_module_names_the_exception_class():
    from django.db.utils import OperationalError

    line = exception_files.one_line(OperationalError('FATAL:  too many connections for "d"'))
    assert line == 'django.db.utils.OperationalError: FATAL: too many connections for "d"'


def test_the_site_app_listener_records_what_django_signals(tmp_path):
    """Django sends got_request_exception from inside its except block without the
    exception: the listener takes it from sys.exc_info, by the request's path."""
    site_app.listen_for_exceptions(str(tmp_path))
    try:
        request = RequestFactory().get("/shop/cart?x=1")
        try:
            raise LookupError("no such cart")
        except LookupError:
            got_request_exception.send(sender=None, request=request)
        got_request_exception.send(sender=None, request=request)  # outside: nothing to add
    finally:
        got_request_exception.disconnect(dispatch_uid="bench.site.in_server.app")
    assert exception_files.read(tmp_path) == {"/shop/cart": "LookupError: no such cart"}
    site_app.listen_for_exceptions(None)  # no directory named: nothing is connected
    assert not got_request_exception.has_listeners()
