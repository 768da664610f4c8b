"""The served model: found through the `production` alias, cached on disk, checked, swapped.

Each gunicorn worker holds one ModelStore. A version is only swapped in after it loaded and
answered a smoke prediction; requests keep using the old one until then (one reference
assignment), so a switch fails no request. A version that cannot load is refused and not tried
again; an unreachable registry or bucket is retried at the next check.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attrition import model_files
from attrition.features import FEATURES, NAMES
from attrition.serving.settings import ServingSettings

log = logging.getLogger(__name__)

ALIAS = "production"
COMPLETE = ".complete"  # written last into a cached version: the copy is whole
SERVING = "SERVING"  # the version this host served last, for a start with the registry down
# The version's registry tags that serving keeps (data lineage, the model file's sha256),
# written beside its files when downloaded.
LINEAGE = "LINEAGE.json"
KEPT_TAGS = ("data.kind", "data.identity", model_files.SHA256_TAG)
# Kept beside them: when the registry made the version (seconds), for the model's age alert.
CREATED = "created"

# Lowest, highest and middle values of every feature: a loaded model must score them sensibly.
SMOKE_ROWS = np.array(
    [
        [f.low for f in FEATURES],
        [f.high for f in FEATURES],
        [(f.low + f.high) // 2 for f in FEATURES],
    ],
    dtype=np.int64,
)


class Refused(Exception):
    """This version is broken (cannot load, or fails the smoke prediction)."""


@dataclass(frozen=True)
class Loaded:
    name: str
    version: str  # "" for a model served from a path
    pipeline: object
    threshold: float
    source: str  # registry, cache or path
    loaded_at: float
    # What the version learned from (its registry tags data.kind and data.identity): real,
    # synthetic, mixed or unknown (served from a path, or cached before lineage was kept).
    data_kind: str = "unknown"
    data: str = ""
    created_at: float = 0.0  # when the registry made the version (0: unknown)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "threshold": self.threshold,
            "source": self.source,
            "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_at)),
            "data_kind": self.data_kind,
            "data": self.data,
        }


def kept_tags(path: Path) -> dict:
    """The registry tags kept beside a cached version (LINEAGE), or {}."""
    try:
        tags = json.loads((path / LINEAGE).read_text())
    except (OSError, ValueError):
        return {}
    return tags if isinstance(tags, dict) else {}


def lineage_of(path: Path) -> dict:
    """{"data_kind", "data", "created_at"} of a cached version, what of it is known."""
    tags = kept_tags(path)
    found = {}
    if "data.kind" in tags:
        found.update(data_kind=str(tags["data.kind"]), data=str(tags.get("data.identity", "")))
    if isinstance(tags.get(CREATED), (int, float)):
        found["created_at"] = float(tags[CREATED])
    return found


def open_version(path: Path) -> tuple[object, float]:
    """open_model for a registry version: its file must have the sha256 it was registered with."""
    return open_model(str(path), str(kept_tags(path).get(model_files.SHA256_TAG, "")))


def open_model(path: str, expected_sha256: str | None = None) -> tuple[object, float]:
    """(pipeline, threshold) of an MLflow sklearn model directory in skops format (model_files),
    checked against the contract; `expected_sha256` None only for a path an operator chose."""
    from mlflow.models import Model

    try:
        pipeline = model_files.load(path, expected_sha256)
        threshold = float((Model.load(path).metadata or {}).get("threshold", 0.5))
    except model_files.UnsafeModel as err:
        raise Refused(f"not loaded: {err}") from err
    except Exception as err:
        raise Refused(f"cannot load: {type(err).__name__}: {str(err)[:200]}") from err
    names = getattr(pipeline, "feature_names_in_", None)
    if names is not None and tuple(names) != NAMES:
        raise Refused("its features are not the contract's 20 (in order)")
    if getattr(pipeline, "n_features_in_", len(NAMES)) != len(NAMES):
        raise Refused(f"it expects {pipeline.n_features_in_} features, not {len(NAMES)}")
    # Requests arrive as validated matrices in contract order: drop the fitted column names so
    # scikit-learn does not compare (and warn about) them on every call.
    for _, step in getattr(pipeline, "steps", []):
        if "feature_names_in_" in vars(step):
            del step.feature_names_in_
    try:
        proba = pipeline.predict_proba(SMOKE_ROWS)
    except Exception as err:
        raise Refused(f"smoke prediction failed: {type(err).__name__}: {err}") from err
    if proba.shape != (len(SMOKE_ROWS), 2) or not np.all((proba >= 0) & (proba <= 1)):
        raise Refused(f"smoke prediction gave {proba.shape} values outside 0..1")
    if not 0 < threshold < 1 or not math.isfinite(threshold):
        raise Refused(f"its threshold {threshold} is not between 0 and 1")
    return pipeline, threshold


class ModelStore:
    def __init__(self, settings: ServingSettings, on_change=None):
        self.settings = settings
        self.root = Path(settings.cache_dir) / settings.model_name
        self.current: Loaded | None = None
        self.refused: dict[str, str] = {}
        self.last_check: float | None = None
        self.last_error: str | None = None
        self.on_change = on_change or (lambda event, loaded: None)
        self._stop = threading.Event()

    # -- start and follow -------------------------------------------------------------------
    def start(self) -> None:
        """Load something to serve (blocking), then follow the alias in a daemon thread."""
        if self.settings.model_uri:
            self._serve_path(self.settings.model_uri)
            return
        self.check()
        if self.current is None:
            self._serve_last_cached()
        threading.Thread(target=self._follow, name="follow-alias", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _follow(self) -> None:
        while not self._stop.wait(self.settings.poll_seconds):
            try:
                self.check()
            except Exception:  # e.g. the cache disk is full: log it, keep serving and following
                log.exception("checking the alias failed")

    def check(self) -> None:
        """One look at the alias; swap to its version if that is new and sound."""
        self.last_check = time.time()
        try:
            version = self._resolve()
            if version is None:
                self.last_error = f"the registry has no `{ALIAS}` version of this model yet"
                return
            if self.current is not None and self.current.version == version:
                self.last_error = None
                return
            if version in self.refused:
                return
            path = self._fetch(version)
            pipeline, threshold = open_version(path)
        except Refused as err:
            self.refused[version] = str(err)
            self.last_error = f"version {version} refused: {err}"
            log.error(
                "model %s version %s refused, still serving %s: %s",
                self.settings.model_name,
                version,
                self.current.version if self.current else "nothing",
                err,
            )
            self.on_change("refused", self.current)
            return
        except Exception as err:  # registry or bucket unreachable: keep serving, try again later
            self.last_error = f"cannot reach the registry: {type(err).__name__}: {str(err)[:200]}"
            log.warning(
                "%s (still serving %s)",
                self.last_error,
                self.current.version if self.current else "nothing",
            )
            self.on_change("error", self.current)
            return
        self._swap(
            Loaded(
                self.settings.model_name,
                version,
                pipeline,
                threshold,
                "registry",
                time.time(),
                **lineage_of(path),
            )
        )
        self.last_error = None

    def _swap(self, loaded: Loaded) -> None:
        old = self.current
        self.current = loaded  # one assignment: requests see the old or the new model, whole
        if loaded.source == "registry":
            self._remember(loaded.version)
        log.info(
            "serving model %s version %s from %s (was %s)",
            loaded.name,
            loaded.version,
            loaded.source,
            old.version if old else "nothing",
        )
        self.on_change("loaded", loaded)

    def _serve_path(self, uri: str) -> None:
        try:
            pipeline, threshold = open_model(uri)
        except Refused as err:
            self.last_error = f"{uri} refused: {err}"
            log.error("%s: nothing to serve", self.last_error)
            return
        self._swap(Loaded(self.settings.model_name, "", pipeline, threshold, "path", time.time()))

    def _serve_last_cached(self) -> None:
        try:
            version = (self.root / SERVING).read_text().strip()
        except OSError:
            log.error("no model to serve: the registry gave none and nothing is cached")
            return
        try:
            pipeline, threshold = open_version(self.root / version)
        except Refused as err:
            log.error("the cached version %s is unusable too: %s", version, err)
            return
        log.warning("serving the cached version %s (the registry gave none)", version)
        self._swap(
            Loaded(
                self.settings.model_name,
                version,
                pipeline,
                threshold,
                "cache",
                time.time(),
                **lineage_of(self.root / version),
            )
        )

    # -- registry and cache -----------------------------------------------------------------
    def _resolve(self) -> str | None:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            found = MlflowClient().get_model_version_by_alias(self.settings.model_name, ALIAS)
        except MlflowException as err:
            if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return str(found.version)

    def _fetch(self, version: str) -> Path:
        """The cached copy of a version, downloading it first if needed (one worker at a time;
        the others wait on the lock and then find it)."""
        target = self.root / version
        if (target / COMPLETE).exists():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (target / COMPLETE).exists():
                return target
            import mlflow.artifacts

            shutil.rmtree(target, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.root))
            try:
                uri = f"models:/{self.settings.model_name}/{version}"
                mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp))
                from mlflow import MlflowClient

                found = MlflowClient().get_model_version(self.settings.model_name, version)
                data = {k: v for k, v in found.tags.items() if k in KEPT_TAGS}
                data[CREATED] = found.creation_timestamp / 1000
                (tmp / LINEAGE).write_text(json.dumps(data))
                (tmp / COMPLETE).write_text(uri + "\n")
                os.replace(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        log.info("downloaded model %s version %s to %s", self.settings.model_name, version, target)
        return target

    def _remember(self, version: str) -> None:
        tmp = self.root / f".{SERVING}.{os.getpid()}"
        tmp.write_text(version + "\n")
        os.replace(tmp, self.root / SERVING)

    def health(self) -> dict:
        return {
            "status": "ok" if self.current else "no model",
            "model": self.current.describe() if self.current else None,
            "following": None
            if self.settings.model_uri
            else f"{ALIAS} every {self.settings.poll_seconds:g} s",
            "last_check": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_check))
            if self.last_check
            else None,
            "last_error": self.last_error,
            "refused": dict(self.refused),  # a copy: the follow thread may add to it
        }
