"""The web page's settings, from the environment (the gateway role's web.env), read once by
create_app(): the same pattern as serving's and training's settings."""

from __future__ import annotations

from dataclasses import dataclass

from attrition.settings import typed_from_env

# On Google Cloud the VM's service account proves itself with an identity token for the
# function's URL, from the metadata server (the function is deployed without public access).
METADATA = "http://metadata.google.internal/computeMetadata/v1/instance/service-account/identity"


@dataclass(frozen=True)
class WebSettings:
    # Where the Cloud Function answers (required), and the CA file its certificate must chain
    # to (empty: the system's CAs, as for Google's own certificate).
    gateway_url: str = ""
    gateway_ca_file: str = ""
    # "key": send gateway_key, the page's client key (the local fleet); "metadata": an identity
    # token from the metadata server (Google Cloud, IAM checks it).
    gateway_auth: str = "key"
    gateway_key: str = ""
    metadata_url: str = METADATA

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebSettings:
        settings = cls(**typed_from_env(cls, "WEB_", env))
        if not settings.gateway_url:
            raise ValueError("WEB_GATEWAY_URL must be set, e.g. https://gateway:8080/")
        if settings.gateway_auth not in ("key", "metadata"):
            raise ValueError(f"WEB_GATEWAY_AUTH={settings.gateway_auth!r}: use key or metadata")
        return settings
