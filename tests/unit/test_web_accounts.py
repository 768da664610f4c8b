"""The page's accounts file: the playbook's list applied (`attrition web-users sync`), argon2id
hashes, lock-outs, sessions ending."""

from __future__ import annotations

import json
import sqlite3

import pytest

from attrition.web.accounts import Accounts, Invalid, Policy
from testkit.cli import run_cli

ANN = {"name": "ann", "role": "analyst", "user_id": 7, "password": "ann-password-123"}
HAL = {"name": "hal", "role": "hr_admin", "user_id": 2, "password": "hal-password-123"}


def stored(path) -> dict:
    with sqlite3.connect(path) as db:
        return {
            name: hashed for name, hashed in db.execute("SELECT name, password_hash FROM users")
        }


def test_the_playbooks_list_through_the_command(tmp_path):
    path = str(tmp_path / "a.sqlite3")

    def sync(entries):
        done = run_cli("web-users", "sync", "--accounts-file", path, stdin=json.dumps(entries))
        return done.returncode, done.stdout, done.stderr

    assert sync([ANN, HAL])[:2] == (0, '{"changed": ["ann", "hal"]}\n')
    assert (tmp_path / "a.sqlite3").stat().st_mode & 0o777 == 0o600
    hashes = stored(path)
    # argon2id with the library's defaults (RFC 9106's low-memory profile): memory-hard.
    assert hashes["ann"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "ann-password-123" not in (tmp_path / "a.sqlite3").read_bytes().decode("latin-1")
    assert sync([ANN, HAL])[:2] == (0, '{"changed": []}\n')  # a re-run changes nothing
    assert stored(path) == hashes
    code, _, err = sync([ANN, {**HAL, "role": "boss"}])
    assert code == 2 and "hal: role 'boss': one of analyst, hr_admin" in err
    assert stored(path) == hashes  # one bad entry: nothing changed


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({**ANN, "user_id": 0}, "ann: user_id '0': a positive whole number"),
        ({**ANN, "user_id": True}, "ann: user_id 'True'"),
        ({**ANN, "password": "short"}, "ann: the password is shorter than 12 characters"),
        ({**ANN, "name": ""}, "name '': 1 to 200 characters"),
    ],
)
def test_bad_entries_are_named(tmp_path, entry, words, quick_hashes):
    with pytest.raises(Invalid, match=words):
        Accounts(str(tmp_path / "a.sqlite3")).sync([entry])


def test_changes_end_the_accounts_sessions_and_unlisted_accounts_go(tmp_path, quick_hashes):
    accounts = Accounts(str(tmp_path / "a.sqlite3"))
    accounts.sync([ANN, HAL])
    ann, hal = accounts.open_session("ann"), accounts.open_session("hal")
    assert accounts.sync([{**ANN, "password": "a-new-password-456"}, HAL]) == ["ann"]
    assert accounts.session(ann) is None and accounts.session(hal).name == "hal"
    assert accounts.sign_in("ann", "ann-password-123") is None
    assert accounts.sign_in("ann", "a-new-password-456").user_id == 7
    assert accounts.sync([ANN]) == ["hal", "ann"]
    assert accounts.session(hal) is None and accounts.user("hal") is None


def test_an_identity_aware_proxy_account_has_no_password(tmp_path, quick_hashes):
    accounts = Accounts(str(tmp_path / "a.sqlite3"))
    accounts.sync([{"name": "hal@example.com", "role": "hr_admin", "user_id": 2}])
    assert accounts.user("hal@example.com").role == "hr_admin"
    assert accounts.sign_in("hal@example.com", "") is None


def test_sessions_end_after_their_maximum_age_even_when_used(tmp_path, quick_hashes):
    accounts = Accounts(str(tmp_path / "a.sqlite3"), Policy(max_seconds=1000, idle_seconds=600))
    accounts.sync([ANN])
    token = accounts.open_session("ann", now=0)
    assert accounts.session(token, now=500).name == "ann"
    assert accounts.session(token, now=1000).name == "ann"  # used 500 s ago: not idle
    assert accounts.session(token, now=1001) is None  # but older than its maximum
    idle = accounts.open_session("ann", now=2000)
    assert accounts.session(idle, now=2601) is None
    assert accounts.session("not-a-session", now=1000) is None
