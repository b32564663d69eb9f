import socket

import pytest

from bench.errors import UsageError
from bench.serve.ports import check_target, free_port, is_loopback_host, port_is_free


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "0.0.0.0", "192.168.1.5", "::"])
def test_other_hosts(host):
    assert not is_loopback_host(host)


def test_remote_targets_need_the_explicit_flag():
    assert check_target("http://127.0.0.1:8000", allow_remote=False) == "127.0.0.1"
    with pytest.raises(UsageError, match="--allow-remote-host"):
        check_target("http://example.com:8000", allow_remote=False)
    assert check_target("http://example.com", allow_remote=True) == "example.com"
    with pytest.raises(UsageError, match="URL"):
        check_target("ftp://127.0.0.1", allow_remote=True)


def test_free_ports_are_free_and_taken_ones_are_not():
    port = free_port()
    assert port_is_free(port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not port_is_free(port)
