"""`attrition` command line: data generation and loading, training."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger("attrition")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_REFUSED = 0, 1, 2, 4


def _generate(args: argparse.Namespace) -> int:
    from attrition import generator

    started = time.perf_counter()
    frame = generator.generate(args.rows, args.seed)
    generator.write_csv(frame, args.out)
    share = (frame["Attrition"] == "Yes").mean()
    log.info(
        "wrote %d rows (attrition %.1f %%) to %s in %.1f s",
        len(frame),
        100 * share,
        args.out,
        time.perf_counter() - started,
    )
    return EXIT_OK


def _connect_or_fail(action):
    """Run action(conn) against the database the settings name; psycopg2 errors -> None."""
    import psycopg2

    from attrition.settings import Settings

    try:
        conn = psycopg2.connect(Settings.from_env().database_dsn, connect_timeout=10)
        try:
            return action(conn)
        finally:
            conn.close()
    except psycopg2.Error as err:
        log.error("database error, nothing was written: %s", str(err).strip())
        return None


def _load(args: argparse.Namespace) -> int:
    from attrition import loader, records, settings

    started = time.perf_counter()
    try:  # the whole file is checked before any connection is made
        employee_file = records.read(args.csv)
    except records.RecordsError as err:
        print(err, file=sys.stderr)
        print(f"{args.csv}: not loaded: rejected {err.rejected} rows")
        return EXIT_BAD_INPUT
    options = dict(
        source=args.source or args.csv.name,
        kind=args.kind,
        mode=args.mode,
        operator=settings.operator(),
        unless_loaded=args.unless_loaded,
    )
    try:
        result = _connect_or_fail(lambda conn: loader.load(conn, employee_file, **options))
    except loader.LoadRefused as err:
        print(f"{args.csv}: not loaded: {err}")
        return EXIT_REFUSED
    if result is None:
        return EXIT_FAILED
    print(f"{args.csv}: {result}")
    log.info("load took %.1f s", time.perf_counter() - started)
    return EXIT_OK


def _data_status(args: argparse.Namespace) -> int:
    from attrition import loader

    data = _connect_or_fail(loader.status)
    if data is None:
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"rows": data.rows, "kind": data.kind, **data.tags()}))
    else:
        print(f"training.employees: {data.describe()}")
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    import psycopg2
    from mlflow.exceptions import MlflowException

    from attrition.training import pipeline, registry
    from attrition.training.settings import TrainingSettings
    from attrition.training.validate import TrainingDataError

    try:
        settings = TrainingSettings.from_env()
        return pipeline.run(settings)
    except (ValueError, TrainingDataError) as err:
        log.error("training refused: %s", err)
        return pipeline.EXIT_BAD_DATA
    except registry.Busy as err:
        log.error("training refused: %s", err)
        return EXIT_REFUSED
    except psycopg2.Error as err:
        log.error("database error: %s", str(err).strip())
    except MlflowException as err:
        log.error("MLflow error (tracking server or artifact store): %s", err.message[:500])
    except OSError as err:  # connection refused, DNS, timeouts below requests/google clients
        log.error("I/O error: %s", err)
    except Exception:
        log.exception("unexpected error")
    log.error("training failed; production is unchanged")
    return pipeline.EXIT_FAILED


def _registry_command(action) -> int:
    """Run action(registry, client, dsn, operator) -> exit code, with clear errors."""
    import psycopg2
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from attrition.settings import Settings, operator
    from attrition.training import registry

    try:
        return action(registry, MlflowClient(), Settings.from_env().database_dsn, operator())
    except MlflowException as err:
        log.error("production unchanged: %s", err.message[:500])
    except psycopg2.Error as err:
        log.error("production unchanged: database error: %s", str(err).strip())
    except OSError as err:
        log.error("production unchanged: I/O error: %s", err)
    except Exception as err:  # e.g. a version whose model does not load: say so, no traceback
        log.error("production unchanged: %s: %s", type(err).__name__, str(err)[:500])
    return EXIT_FAILED


def _set_production(args: argparse.Namespace) -> int:
    def action(registry, client, dsn, who):
        old = registry.set_production(dsn, client, args.model, args.version, args.reason, who)
        print(
            f"{args.model}@{registry.ALIAS}: version {old or '(none)'} -> {args.version}"
            " (pinned: training runs register versions but leave production alone until"
            " `attrition unpin`)"
        )
        return EXIT_OK

    return _registry_command(action)


def _unpin(args: argparse.Namespace) -> int:
    def action(registry, client, dsn, who):
        version = registry.unpin(dsn, client, args.model, args.reason, who)
        if version is None:
            print(f"{args.model}@{registry.ALIAS} is not pinned; nothing changed")
        else:
            print(
                f"{args.model}@{registry.ALIAS}: unpinned at version {version}; training runs"
                " may move it again"
            )
        return EXIT_OK

    return _registry_command(action)


def _history(args: argparse.Namespace) -> int:
    def action(registry, client, dsn, who):
        if args.reconcile:
            registry.reconcile(dsn, client, args.model, who)
        moves = registry.history(dsn, args.model, args.limit)
        current = registry.current_champion(client, args.model)
        where = current.version if current else "(none)"
        pinned = " (pinned)" if moves and moves[0].pinned else ""
        print(f"{args.model}@{registry.ALIAS} is version {where}{pinned}; moves, newest first:")
        for move in moves:
            print(f"  {move}")
        recorded = str(moves[0].to_version) if moves and moves[0].to_version else "(none)"
        if recorded != where:
            print(
                f"WARNING: the last recorded move left version {recorded}, not {where}:"
                " run `attrition history --reconcile` to record it"
            )
            return EXIT_FAILED
        return EXIT_OK

    return _registry_command(action)


def _keys(args: argparse.Namespace) -> int:
    """attrition keys create|rotate|revoke|list|sync: the function's clients (client_keys)."""
    from attrition import client_keys as keys
    from attrition.settings import operator

    def action(conn):
        if args.keys == "create":
            scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip())
            client = keys.Client(args.name, scopes, args.user_id, args.google_identity)
            key = keys.create(conn, client, operator())
            print(key if key else f"{args.name}: Google identity registered (it has no key)")
        elif args.keys == "rotate":
            print(keys.rotate(conn, args.name))
        elif args.keys == "revoke":
            keys.revoke(conn, args.name)
            print(f"{args.name}: revoked")
        elif args.keys == "sync":
            print(json.dumps({"changed": keys.sync(conn, json.load(sys.stdin))}))
        else:
            rows = keys.listing(conn)
            if args.json:
                print(json.dumps(rows, default=str))
            for row in [] if args.json else rows:
                print("  ".join(f"{k}={'-' if v is None else v}" for k, v in row.items()))
        return EXIT_OK

    try:
        result = _connect_or_fail(action)
    except (keys.Invalid, ValueError) as err:  # ValueError: the sync list is not JSON
        print(f"attrition keys {args.keys}: {err}; nothing was changed", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_FAILED if result is None else result


def _web_users(args: argparse.Namespace) -> int:
    """attrition web-users sync: the page's accounts made exactly the JSON list on stdin."""
    from attrition.web.accounts import Accounts, Invalid

    try:
        changed = Accounts(args.accounts_file).sync(json.load(sys.stdin))
    except (Invalid, ValueError) as err:  # ValueError: not JSON
        print(f"attrition web-users sync: {err}; nothing was changed", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps({"changed": changed}))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    from attrition.web.settings import WebSettings  # no web dependency: a dataclass

    top = argparse.ArgumentParser(prog="attrition", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate-data", help="write a synthetic employee CSV (IBM format)")
    gen.add_argument("--rows", type=int, required=True)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", type=Path, required=True, help="CSV file to write")
    gen.set_defaults(run=_generate)

    load = sub.add_parser(
        "load-data",
        help="validate a CSV and load it into training.employees, recorded in training.loads "
        "(PG* variables or ATTRITION_DATABASE_DSN say where); exit 0 loaded or already "
        "loaded, 2 bad file, 4 refused (data-safety rule), 1 database error",
    )
    load.add_argument("--csv", type=Path, required=True)
    load.add_argument(
        "--mode",
        choices=("snapshot", "upsert"),
        default="snapshot",
        help="snapshot (default): the table holds exactly the file's rows afterwards; "
        "upsert: merge the file into the table",
    )
    load.add_argument(
        "--kind",
        choices=("real", "synthetic"),
        default="real",
        help="what the file holds (default real); synthetic is never written over real data",
    )
    load.add_argument("--source", help="name recorded for the file (default: its file name)")
    load.add_argument(
        "--unless-loaded",
        action="store_true",
        help="do nothing when the latest load was this very file (same sha256, kind, mode)",
    )
    load.set_defaults(run=_load)

    status = sub.add_parser(
        "data-status", help="which loads the rows of training.employees come from"
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(run=_data_status)

    train = sub.add_parser(
        "train",
        help="train, log, register and maybe promote a model (settings: ATTRITION_* and "
        "MLFLOW_TRACKING_* variables); exit 0 promoted, 3 not promoted, 2 bad data, "
        "4 another run in progress, 1 failed",
    )
    train.set_defaults(run=_train)

    registry_env = "MLFLOW_TRACKING_* and ATTRITION_DATABASE_DSN variables say where"
    prod = sub.add_parser(
        "set-production",
        help="point the production alias at a version by hand (promote or roll back) and pin "
        f"it there; recorded in registry.alias_moves ({registry_env})",
    )
    prod.add_argument("version", help="model version number")
    prod.add_argument("--model", default="attrition", help="registered model name")
    prod.add_argument("--reason", required=True, help="why, recorded with the move")
    prod.set_defaults(run=_set_production)

    unpin = sub.add_parser(
        "unpin", help=f"let training runs move the production alias again ({registry_env})"
    )
    unpin.add_argument("--model", default="attrition", help="registered model name")
    unpin.add_argument("--reason", required=True, help="why, recorded with the move")
    unpin.set_defaults(run=_unpin)

    hist = sub.add_parser(
        "history", help=f"every move of the production alias, newest first ({registry_env})"
    )
    hist.add_argument("--model", default="attrition", help="registered model name")
    hist.add_argument("--limit", type=int, default=50, help="how many moves (default 50)")
    hist.add_argument(
        "--reconcile",
        action="store_true",
        help="first record where the alias is if no recorded move put it there",
    )
    hist.set_defaults(run=_history)

    keys = sub.add_parser(
        "keys",
        help="the prediction function's clients: keys or Google identities with scopes (PG* "
        "variables say where); a key is printed once, when made; exit 2 bad request",
    )
    keys_sub = keys.add_subparsers(dest="keys", required=True)
    create = keys_sub.add_parser("create", help="add a client and print its key")
    create.add_argument("name", help="who it is for, e.g. alice or reports-job")
    create.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: predict, history:own, history:all, act-as-any-user",
    )
    create.add_argument("--user-id", type=int, help="the user a personal key acts as")
    create.add_argument(
        "--google-identity",
        action="store_true",
        help="NAME is a Google service account's e-mail (GATEWAY_AUTH=iam): no key",
    )
    for verb, words in (
        ("rotate", "a new key; the old one stops working at once"),
        ("revoke", "the client stops working at once (its row stays)"),
    ):
        one = keys_sub.add_parser(verb, help=words)
        one.add_argument("name")
    listing = keys_sub.add_parser("list", help="every client, revoked ones too (never a key)")
    listing.add_argument("--json", action="store_true", help="one JSON list")
    keys_sub.add_parser(
        "sync", help="make the clients of a JSON list on stdin so (the playbook's list)"
    )
    keys.set_defaults(run=_keys)

    web_users = sub.add_parser(
        "web-users", help="the web page's accounts (names, roles, user ids, argon2id hashes)"
    )
    web_users_sub = web_users.add_subparsers(dest="web_users", required=True)
    sync = web_users_sub.add_parser(
        "sync",
        help="make the accounts exactly the JSON list on stdin ({name, role, user_id, "
        "password?}); prints the names that changed",
    )
    sync.add_argument(
        "--accounts-file",
        default=WebSettings.accounts_file,
        help="the page's accounts file (its WEB_ACCOUNTS_FILE)",
    )
    web_users.set_defaults(run=_web_users)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "generate-data" and args.rows < 1:
        log.error("--rows must be at least 1")
        return EXIT_BAD_INPUT
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
