"""Test-wide settings.

* Every floating-point error raises, so hidden overflows fail loudly.
* No test reaches the network: sockets may connect only to loopback (the local HTTP
  servers that tests start), the package-index fallback is off unless a test is marked
  ``network``, and the data cache is a fresh temporary folder.
"""

import ipaddress
import socket

import numpy as np
import pytest

np.seterr(all="raise")

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    try:
        allowed = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        allowed = False
    if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed:
        raise OSError(f"tests may not reach the network (tried {address})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def offline(request, monkeypatch, tmp_path_factory):
    from gradwise.data import sources
    monkeypatch.setenv("GRADWISE_CACHE", str(tmp_path_factory.mktemp("cache")))
    if request.node.get_closest_marker("network") is None:
        monkeypatch.setattr(socket.socket, "connect", _loopback_only)
        monkeypatch.setattr(sources, "PYPI_FALLBACK", False)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
