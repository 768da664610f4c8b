"""A throwaway certificate authority for tests and benchmarks: the fleet's CA, another CA that
no client should trust, and a server certificate signed by the fleet's for the names asked for."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificate(subject: str, key, issuer_name: str, issuer_key, ca: bool, names=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(text: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        return x509.DNSName(text)


def make_pki(folder: Path, names: tuple[str, ...] = ("localhost",), server: str = "server") -> dict:
    """fleet-ca.crt, other-ca.crt, and the server's certificate and key for `names` (host names
    or addresses), `server`.crt and `server`.key, in `folder`; returns their paths."""
    keys = {}
    for ca in ("fleet", "other"):
        keys[ca] = ec.generate_private_key(ec.SECP256R1())
        cert = certificate(ca, keys[ca], ca, keys[ca], ca=True)
        (folder / f"{ca}-ca.crt").write_bytes(pem(cert))
    server_key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(
        names[0], server_key, "fleet", keys["fleet"], ca=False, names=[_name(n) for n in names]
    )
    files = {
        "fleet": folder / "fleet-ca.crt",
        "other": folder / "other-ca.crt",
        "cert": folder / f"{server}.crt",
        "key": folder / f"{server}.key",
    }
    files["cert"].write_bytes(pem(cert))
    files["key"].write_bytes(pem(server_key))
    files["key"].chmod(0o600)
    return files
