"""Model registry rules: register a version, then move `production` only to a better model."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from attrition.training import evaluate

log = logging.getLogger(__name__)

ALIAS = "production"


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


def decide(client, name, metric, floor, challenger_score, x_holdout, y_holdout) -> Decision:
    """Evaluate the champion on the same holdout and compare on `metric`."""
    champion = current_champion(client, name)
    if challenger_score < floor:
        return Decision(
            False, f"{metric} {challenger_score:.4f} is below the floor {floor}",
            challenger_score, None, champion.version if champion else None,
        )  # fmt: skip
    if champion is None:
        return Decision(True, "first model above the floor", challenger_score, None, None)
    try:
        old = mlflow.sklearn.load_model(f"models:/{name}/{champion.version}")
        threshold = float(champion.tags.get("threshold", 0.5))
        proba = old.predict_proba(x_holdout)[:, 1]
        champion_score = evaluate.scores(y_holdout, proba, threshold)[metric]
    except Exception as err:  # an unloadable champion must not block a good challenger
        log.warning("the champion (version %s) cannot be evaluated: %s", champion.version, err)
        return Decision(
            True, f"champion version {champion.version} cannot be evaluated ({err})",
            challenger_score, None, champion.version,
        )  # fmt: skip
    if challenger_score >= champion_score:
        reason = f"{metric} {challenger_score:.4f} >= champion's {champion_score:.4f}"
        return Decision(True, reason, challenger_score, champion_score, champion.version)
    reason = f"{metric} {challenger_score:.4f} < champion's {champion_score:.4f}"
    return Decision(False, reason, challenger_score, champion_score, champion.version)


def record(client: MlflowClient, name: str, version: str, metric: str, decision: Decision):
    """Tags on the new version say what was decided and why; then the alias moves (or not)."""
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
    if decision.promoted:
        client.set_registered_model_alias(name, ALIAS, version)


def set_production(client: MlflowClient, name: str, version: str, reason: str) -> str | None:
    """Point production at `version` by hand (promote or roll back); returns the old version.

    The version must exist and its model must load, so a typo cannot take production down."""
    target = client.get_model_version(name, version)  # raises if it does not exist
    mlflow.sklearn.load_model(f"models:/{name}/{target.version}")
    old = current_champion(client, name)
    client.set_model_version_tag(name, target.version, "promotion.decision", "manual")
    client.set_model_version_tag(name, target.version, "promotion.reason", reason)
    client.set_registered_model_alias(name, ALIAS, target.version)
    return old.version if old else None
