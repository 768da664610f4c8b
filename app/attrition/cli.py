"""`attrition` command line: data generation and loading, training."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger("attrition")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


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


def _load(args: argparse.Namespace) -> int:
    import psycopg2

    from attrition import loader, records
    from attrition.settings import Settings

    settings = Settings.from_env()
    started = time.perf_counter()
    try:  # the whole file is checked before any connection is made
        employee_file = records.read(args.csv)
    except records.RecordsError as err:
        print(err, file=sys.stderr)
        print(f"{args.csv}: inserted 0, updated 0, unchanged 0, rejected {err.rejected}")
        return EXIT_BAD_INPUT
    try:
        conn = psycopg2.connect(settings.database_dsn)
        try:
            result = loader.load(conn, employee_file)
        finally:
            conn.close()
    except psycopg2.Error as err:
        log.error("database error, nothing was written: %s", str(err).strip())
        return EXIT_FAILED
    print(f"{args.csv}: {result}")
    log.info("load took %.1f s", time.perf_counter() - started)
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    import psycopg2
    from mlflow.exceptions import MlflowException

    from attrition.training import pipeline
    from attrition.training.settings import TrainingSettings
    from attrition.training.validate import TrainingDataError

    try:
        settings = TrainingSettings.from_env()
        return pipeline.run(settings)
    except (ValueError, TrainingDataError) as err:
        log.error("training refused: %s", err)
        return pipeline.EXIT_BAD_DATA
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


def _set_production(args: argparse.Namespace) -> int:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from attrition.training import registry

    try:
        old = registry.set_production(MlflowClient(), args.model, args.version, args.reason)
    except MlflowException as err:
        log.error("production unchanged: %s", err.message[:500])
        return EXIT_FAILED
    print(f"{args.model}@{registry.ALIAS}: version {old or '(none)'} -> {args.version}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="attrition", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate-data", help="write a synthetic employee CSV (IBM format)")
    gen.add_argument("--rows", type=int, required=True)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", type=Path, required=True, help="CSV file to write")
    gen.set_defaults(run=_generate)

    load = sub.add_parser(
        "load-data",
        help="validate a CSV and upsert it into training.employees (PG* variables or "
        "ATTRITION_DATABASE_DSN say where)",
    )
    load.add_argument("--csv", type=Path, required=True)
    load.set_defaults(run=_load)

    train = sub.add_parser(
        "train",
        help="train, log, register and maybe promote a model (settings: ATTRITION_* and "
        "MLFLOW_TRACKING_* variables); exit 0 promoted, 3 not promoted, 2 bad data, 1 failed",
    )
    train.set_defaults(run=_train)

    prod = sub.add_parser(
        "set-production",
        help="point the production alias at a version by hand (promote or roll back); "
        "MLFLOW_TRACKING_* variables say where",
    )
    prod.add_argument("version", help="model version number")
    prod.add_argument("--model", default="attrition", help="registered model name")
    prod.add_argument("--reason", required=True, help="why, recorded on the version")
    prod.set_defaults(run=_set_production)
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
