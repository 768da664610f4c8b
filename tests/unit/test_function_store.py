"""The function's database connections when the database stops answering: a request waits a
bounded time for a connection and gets DatabaseDown (the function's 503), never a hung thread.
The "database" is a TCP port that accepts connections and never says a word."""

from __future__ import annotations

import importlib.util
import socket
import threading

import pytest

from testkit.paths import CLOUD_FUNCTION


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, CLOUD_FUNCTION / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def silent_database(monkeypatch):
    listener = socket.create_server(("127.0.0.1", 0))  # the kernel completes handshakes
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(listener.getsockname()[1]))
    monkeypatch.setenv("PGUSER", "gw")
    monkeypatch.syspath_prepend(str(CLOUD_FUNCTION))  # store.py imports validation
    listener.settimeout(10)
    yield listener
    listener.close()


def test_a_full_pool_answers_busy_instead_of_waiting_forever(silent_database):
    store_module = load("store")
    store = store_module.Store(1, wait=0.5)
    first = []

    def hold_the_only_connection():
        try:
            store.history(1, 1)
        except store_module.DatabaseDown as err:
            first.append(str(err))

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    peer, _ = silent_database.accept()  # the holder has the slot and waits for an answer
    with pytest.raises(store_module.DatabaseDown, match="all 1 database connections are busy"):
        store.history(1, 1)
    holder.join(timeout=30)
    # The holder's own wait ends too: connect_timeout, not forever.
    assert first and "cannot be reached" in first[0]
    assert store.slots.acquire(timeout=0)  # the slot came back
    peer.close()
