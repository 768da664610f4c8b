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
    # "token": send gateway_token (the local fleet); "metadata": an identity token from the
    # metadata server (Google Cloud, IAM checks it).
    gateway_auth: str = "token"
    gateway_token: str = ""
    metadata_url: str = METADATA

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebSettings:
        settings = cls(**typed_from_env(cls, "WEB_", env))
        if not settings.gateway_url:
            raise ValueError("WEB_GATEWAY_URL must be set, e.g. https://gateway:8080/")
        if settings.gateway_auth not in ("token", "metadata"):
            raise ValueError(f"WEB_GATEWAY_AUTH={settings.gateway_auth!r}: use token or metadata")
        return settings
