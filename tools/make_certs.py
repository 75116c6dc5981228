"""Make a CA and a SuperLink certificate for Flower's TLS, with the `cryptography` package.

    python tools/make_certs.py --out certificates --host superlink.example.org --host 10.0.0.5

writes ``ca.crt`` (give it to every SuperNode and to ``flwr``: ``--root-certificates ca.crt``),
``server.pem`` and ``server.key`` (the SuperLink's: ``--ssl-ca-certfile ca.crt --ssl-certfile
server.pem --ssl-keyfile server.key``). Each ``--host`` (a DNS name or an IP address; default
127.0.0.1 and localhost) goes into the server certificate's subjectAltName, which is what a
SuperNode checks (RFC 6125 §6; RFC 5280 §4.2.1.6). Keys are ECDSA P-256 (FIPS 186-5), signatures
SHA-256; the private keys are written with mode 0600 and ``ca.key`` is needed only to sign more
certificates: keep it off the SuperLink.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("127.0.0.1", "localhost")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "leptonkit federation"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def make_certificates(out: Path, hosts: tuple[str, ...] = DEFAULT_HOSTS, *,
                      days: int = 365) -> dict[str, Path]:
    """Write ca.crt, ca.key, server.pem, server.key under ``out``; return their paths."""
    if not hosts:
        raise ValueError("hosts must name at least one DNS name or IP address of the SuperLink")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise ValueError(f"days must be an int in [1, 3650], got {days!r}")
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    not_before, not_after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("leptonkit federation CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(not_before).not_valid_after(not_after)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_name)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(not_before).not_valid_after(not_after)
              .add_extension(x509.SubjectAlternativeName([_alt_name(h) for h in hosts]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))

    paths = {"ca": out / "ca.crt", "ca_key": out / "ca.key", "cert": out / "server.pem",
             "key": out / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(paths["ca_key"], ca_key)
    _write_key(paths["key"], server_key)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("certificates"), help="directory to write to")
    parser.add_argument("--host", action="append", dest="hosts",
                        help="the SuperLink's DNS name or IP address (repeat; default 127.0.0.1, localhost)")
    parser.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    args = parser.parse_args(argv)
    paths = make_certificates(args.out, tuple(args.hosts or DEFAULT_HOSTS), days=args.days)
    for role, path in paths.items():
        print(f"{role:7s} {path}")


if __name__ == "__main__":
    main()
