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
    # Who is signed in. "accounts": the playbook's accounts (name and password, kept in
    # accounts_file with the sessions). "iap": Identity-Aware Proxy signed in a Google account
    # and says so in a signed assertion for iap_audience (its keys at iap_certs_url, empty:
    # Google's); the account's e-mail must be one of the accounts (without a password).
    sign_in: str = "accounts"
    accounts_file: str = "/var/lib/attrition-web/accounts.sqlite3"
    iap_audience: str = ""
    iap_certs_url: str = ""
    # Host names (and addresses) the page answers to, comma-separated; anything else is a 400.
    allowed_hosts: str = ""
    # A failed sign-in waits this long; this many in a row lock the account for lock_minutes.
    failure_delay: float = 1.0
    lock_failures: int = 5
    lock_minutes: float = 15.0
    # A session ends after this long unused, and after session_max_hours in any case.
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebSettings:
        settings = cls(**typed_from_env(cls, "WEB_", env))
        if not settings.gateway_url:
            raise ValueError("WEB_GATEWAY_URL must be set, e.g. https://gateway:8080/")
        if settings.gateway_auth not in ("key", "metadata"):
            raise ValueError(f"WEB_GATEWAY_AUTH={settings.gateway_auth!r}: use key or metadata")
        if settings.sign_in not in ("accounts", "iap"):
            raise ValueError(f"WEB_SIGN_IN={settings.sign_in!r}: use accounts or iap")
        if settings.sign_in == "iap" and not settings.iap_audience:
            raise ValueError("WEB_IAP_AUDIENCE must be set with WEB_SIGN_IN=iap")
        if not settings.hosts():
            raise ValueError("WEB_ALLOWED_HOSTS must name the page's hosts, e.g. hr.example.com")
        return settings

    def hosts(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
