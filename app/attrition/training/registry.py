"""Model registry rules: the promotion gate, moves of the production alias and their audit trail.

Every move of the alias (a training run's promotion, a manual promote or roll back, an unpin) is
made by `Moves` inside one PostgreSQL transaction that holds a per-model advisory lock: it appends
the move's row to registry.alias_moves, moves the alias in MLflow, then commits. MLflow and
PostgreSQL share no transaction, so the two cannot be atomic: a crash after the alias moved and
before the commit leaves a move without its row. The next move (or `attrition history
--reconcile`) notices that the alias is not where the last row put it and records a `reconcile`
row saying so; the same catches a move made by hand in the MLflow UI.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass

import psycopg2
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from attrition import model_files
from attrition.lineage import DataSet
from attrition.training import evaluate

log = logging.getLogger(__name__)

ALIAS = "production"
# Advisory lock classes (the second key is the model name's hash): one training run at a time
# per model, and one alias move at a time per model, across every host and shell.
RUN_LOCK, MOVE_LOCK = 0x41545201, 0x41545202


class Busy(Exception):
    """Another training run of the same model holds the run lock."""


class ChampionUnusable(Exception):
    """The champion's files are gone or cannot be loaded: it can be skipped, not compared."""


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    challenger: float
    champion: float | None
    champion_version: str | None


def current_champion(client: MlflowClient, name: str):
    """The version behind the alias, or None when there is none yet."""
    try:
        return client.get_model_version_by_alias(name, ALIAS)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def register_version(client: MlflowClient, name: str, logged, tags: dict):
    """A new version of registered model `name` from a logged model. On the fleet the tracking
    server's admin made the model and no account may create one (roles/mlflow); a plain server
    (tests, a laptop) gets it made here, as mlflow.register_model would."""
    try:
        client.get_registered_model(name)
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(name)
    return client.create_model_version(
        name, source=logged.model_uri, tags=tags, model_id=logged.model_id
    )


@contextlib.contextmanager
def training_lock(dsn: str, name: str):
    """Held for a whole run; released by PostgreSQL when the connection ends, even on SIGKILL.
    A run that ends normally unlocks explicitly before closing: the server ends a closed
    session's backend (and so frees its locks) only some time later, and a run started right
    after this one, on a busy machine, found the lock still held."""
    conn = psycopg2.connect(dsn, connect_timeout=10)
    key = (RUN_LOCK, name)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", key)
            if not cur.fetchone()[0]:
                raise Busy(f"another training run of model {name!r} is in progress; try later")
        try:
            yield
        finally:
            # A broken connection took the lock with it; its error must not hide the run's.
            with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
    finally:
        conn.close()


def score_champion(champion, threshold: float, x, y, metric: str) -> float:
    """The champion's (a model version's) `metric` on (x, y). Files gone, unloadable or not what
    was registered (model_files): ChampionUnusable. Any other error (tracking server or bucket
    unreachable, 5xx) propagates: the run must fail rather than promote without a comparison."""
    import mlflow.artifacts
    import requests

    name, version = champion.name, champion.version
    with tempfile.TemporaryDirectory(prefix="attrition-champion-") as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=tmp)
        except MlflowException as err:
            if err.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise ChampionUnusable(f"its files are gone ({err.message[:200]})") from err
            raise
        except requests.HTTPError as err:
            if err.response is not None and err.response.status_code == 404:
                raise ChampionUnusable(f"its files are gone ({err})") from err
            raise
        try:  # everything is local from here: a failure is the model's own
            pipeline = model_files.load(path, champion.tags.get(model_files.SHA256_TAG, ""))
            proba = pipeline.predict_proba(x)[:, 1]
        except Exception as err:
            raise ChampionUnusable(f"it cannot be loaded ({type(err).__name__}: {err})") from err
    return evaluate.scores(y, proba, threshold)[metric]


def decide(
    client, name, metric, floor, margin, challenger_score, data: DataSet, x_holdout, y_holdout
) -> Decision:
    """The gate, in order: the floor; no champion; a champion that learned from other data (kind
    or source); a champion whose files are gone or unloadable; else the challenger wins unless
    it is worse than the champion by more than `margin` on the same holdout."""
    champion = current_champion(client, name)
    version = champion.version if champion else None
    if challenger_score < floor:
        reason = f"{metric} {challenger_score:.4f} is below the floor {floor}"
        return Decision(False, reason, challenger_score, None, version)
    if champion is None:
        return Decision(True, "first model above the floor", challenger_score, None, None)
    learned_from = champion.tags.get("data.identity", "(not recorded)")
    if learned_from != data.identity:
        reason = (
            f"champion version {version} learned from other data ({learned_from}); the current"
            f" data is {data.identity}: replaced by a challenger above the floor"
        )
        return Decision(True, reason, challenger_score, None, version)
    try:
        threshold = float(champion.tags.get("threshold", 0.5))
        champion_score = score_champion(champion, threshold, x_holdout, y_holdout, metric)
    except ChampionUnusable as err:
        log.warning("the champion (version %s) is skipped: %s", version, err)
        reason = f"champion version {version} is skipped: {err}"
        return Decision(True, reason, challenger_score, None, version)
    verdict = (
        f"{metric} {challenger_score:.4f} vs champion's {champion_score:.4f} (margin {margin})"
    )
    promoted = challenger_score >= champion_score - margin
    return Decision(promoted, verdict, challenger_score, champion_score, version)


@dataclass(frozen=True)
class Move:
    id: int
    moved_at: str
    action: str
    from_version: int | None
    to_version: int | None
    pinned: bool
    reason: str
    metric: str | None
    challenger_score: float | None
    champion_score: float | None
    data_kind: str | None
    operator: str
    db_account: str

    def __str__(self) -> str:
        scores = ""
        if self.challenger_score is not None:
            scores = f" [{self.metric} challenger {self.challenger_score:.4f}"
            if self.champion_score is not None:
                scores += f", champion {self.champion_score:.4f}"
            scores += "]"
        pin = " pinned" if self.pinned else ""
        data = f" data={self.data_kind}" if self.data_kind else ""
        return (
            f"{self.moved_at}  {self.action:<9} {self.from_version or '-'} -> "
            f"{self.to_version or '-'}{pin}  by {self.operator} ({self.db_account}){data}: "
            f"{self.reason}{scores}"
        )


MOVE_COLUMNS = (
    "id, to_char(moved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), action,"
    " from_version, to_version, pinned, reason, metric, challenger_score, champion_score,"
    " data_kind, operator, db_account"
)

# The model's latest moves of the alias, newest first (parameters: name, alias, how many).
LATEST_MOVES = (
    f"SELECT {MOVE_COLUMNS} FROM registry.alias_moves"  # noqa: S608 (constants only)
    " WHERE model_name = %s AND alias = %s ORDER BY id DESC LIMIT %s"
)


def history(dsn: str, name: str, limit: int = 50) -> list[Move]:
    """The latest moves of the model's production alias, newest first."""
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(LATEST_MOVES, (name, ALIAS, limit))
            return [Move(*row) for row in cur.fetchall()]
    finally:
        conn.close()


class Moves:
    """The alias's moves for one model, inside a transaction holding the model's move lock."""

    def __init__(self, cur, client: MlflowClient, name: str, operator: str):
        self.cur, self.client, self.name, self.operator = cur, client, name, operator
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (MOVE_LOCK, name))
        cur.execute(LATEST_MOVES, (name, ALIAS, 1))
        row = cur.fetchone()
        self.last = Move(*row) if row else None
        champion = current_champion(client, name)
        self.current = champion.version if champion else None
        recorded = str(self.last.to_version) if self.last and self.last.to_version else None
        if recorded != self.current:
            self._append(
                "reconcile",
                recorded,
                self.current,
                self.pinned,
                f"the alias was found at version {self.current or '(none)'} where the last"
                f" recorded move left {recorded or '(none)'}: moved outside these tools, or a"
                " crash between a move and its record",
            )

    @property
    def pinned(self) -> bool:
        return bool(self.last and self.last.pinned)

    def _append(self, action, from_version, to_version, pinned, reason, **extra) -> None:
        if to_version and "data_kind" not in extra:  # what the version behind the alias learned
            tags = self.client.get_model_version(self.name, to_version).tags
            extra.update(data_kind=tags.get("data.kind"), data_sources=tags.get("data.identity"))
        self.cur.execute(
            "INSERT INTO registry.alias_moves (model_name, alias, action, from_version,"  # noqa: S608 (constants only)
            " to_version, pinned, reason, metric, challenger_score, champion_score, data_kind,"
            " data_sources, operator) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            f" RETURNING {MOVE_COLUMNS}",
            (
                self.name,
                ALIAS,
                action,
                from_version,
                to_version,
                pinned,
                reason[:2000],
                extra.get("metric"),
                extra.get("challenger"),
                extra.get("champion"),
                extra.get("data_kind"),
                extra.get("data_sources"),
                self.operator,
            ),
        )
        self.last = Move(*self.cur.fetchone())

    def move(self, action: str, to_version: str, pinned: bool, reason: str, **extra) -> None:
        """Record the move, then move the alias (a failure rolls the record back)."""
        self._append(action, self.current, to_version, pinned, reason, **extra)
        if to_version != self.current:
            self.client.set_registered_model_alias(self.name, ALIAS, to_version)
        self.current = to_version


@contextlib.contextmanager
def moves(dsn: str, client: MlflowClient, name: str, operator: str):
    """`Moves` in one transaction: committed when the block ends, rolled back if it raises."""
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        with conn, conn.cursor() as cur:
            yield Moves(cur, client, name, operator)
    finally:
        conn.close()


def promote(dsn, client, name, version, metric, decision, data: DataSet, operator) -> Decision:
    """Move production to `version` if the gate said so, the alias still points at the version
    that was compared (compare-and-set) and no manual move pinned it. Returns the final decision;
    the version's tags say it and why."""
    with moves(dsn, client, name, operator) as alias:
        if decision.promoted and alias.pinned:
            last = alias.last
            decision = Decision(
                False,
                f"production is pinned at version {last.to_version} since "
                f"{last.moved_at} by {last.operator} ({last.reason}); registered only, run "
                "`attrition unpin` to let training runs move it again",
                decision.challenger,
                decision.champion,
                decision.champion_version,
            )
        elif decision.promoted and alias.current != decision.champion_version:
            decision = Decision(
                False,
                f"production moved from version {decision.champion_version or '(none)'}"
                f" to {alias.current} during this run; nothing moved",
                decision.challenger,
                decision.champion,
                decision.champion_version,
            )
        if decision.promoted:
            alias.move(
                "promote",
                version,
                False,
                decision.reason,
                metric=metric,
                challenger=decision.challenger,
                champion=decision.champion,
                data_kind=data.kind,
                data_sources=data.identity,
            )
    _tag(client, name, version, metric, decision)
    return decision


def _tag(client: MlflowClient, name: str, version: str, metric: str, decision: Decision):
    tags = {
        "promotion.decision": "promoted" if decision.promoted else "not promoted",
        "promotion.reason": decision.reason,
        "promotion.metric": metric,
        f"challenger.{metric}": f"{decision.challenger:.6f}",
    }
    if decision.champion is not None:
        tags[f"champion.{metric}"] = f"{decision.champion:.6f}"
    if decision.champion_version is not None:
        tags["champion.version"] = decision.champion_version
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_production(dsn, client, name, version, reason, operator) -> str | None:
    """Point production at `version` by hand (promote or roll back) and pin it there; returns
    the old version. The version must exist and its model must load, so a typo cannot take
    production down."""
    import mlflow.artifacts

    target = client.get_model_version(name, version)  # raises if it does not exist
    with tempfile.TemporaryDirectory(prefix="attrition-promote-") as tmp:
        path = mlflow.artifacts.download_artifacts(f"models:/{name}/{target.version}", dst_path=tmp)
        model_files.load(path, target.tags.get(model_files.SHA256_TAG, ""))
    with moves(dsn, client, name, operator) as alias:
        old = alias.current
        alias.move("manual", target.version, True, reason)
    client.set_model_version_tag(name, target.version, "promotion.decision", "manual")
    client.set_model_version_tag(name, target.version, "promotion.reason", reason)
    return old


def unpin(dsn, client, name, reason, operator) -> str | None:
    """Let training runs move production again; returns the pinned version (None: not pinned)."""
    with moves(dsn, client, name, operator) as alias:
        if not alias.pinned:
            return None
        alias.move("unpin", alias.current, False, reason)
        return alias.current


def reconcile(dsn, client, name, operator) -> Move | None:
    """Record where the alias is if no recorded move put it there; the latest move."""
    with moves(dsn, client, name, operator) as alias:
        return alias.last
