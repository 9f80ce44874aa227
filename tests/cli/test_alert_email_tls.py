"""The email channel over TLS against aiosmtpd on loopback: STARTTLS (the default) and implicit TLS
with a certificate made for the test and trusted through the senders' SSL context; a server that
offers no STARTTLS and a certificate nobody trusts are each one sentence, and nothing is sent."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from grafient_tui.alerts.deliver import Senders
from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from tests.alert_receivers import free_port

# aiosmtpd warns about AUTH without STARTTLS: the implicit-TLS server and the one without TLS, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
PASSWORD = "smtp-GRAFIENT-TLS-PASSWORD-93"
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsSmtp:
    def __init__(self, cert: Path, key: Path, *, mode: str) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[bytes] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(envelope.original_content)
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.password.decode() == PASSWORD
            return AuthResult(success=ok, handled=False)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = free_port()
        kwargs: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
        if mode == "starttls":
            kwargs |= {"tls_context": context, "require_starttls": True}
        elif mode == "tls":
            kwargs |= {"ssl_context": context, "auth_require_tls": False}  # it is TLS: aiosmtpd sees only STARTTLS
        else:  # "plain": no STARTTLS offered
            kwargs = {}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> TlsSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return certificate(tmp_path)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_email_over_tls_logs_in_and_sends(tls_files, mode: str) -> None:
    cert, key = tls_files
    with TlsSmtp(cert, key, mode=mode) as smtp:
        service = GrafientService(Settings.from_env())
        service.add_alert_channel(
            "email",
            "Mail",
            secret=Secret(PASSWORD),
            to="fin@acme.test",
            smtp=f"127.0.0.1:{smtp.port}",
            user="alerts",
            security=mode,
            now=NOW,
        )
        trusted = ssl.create_default_context(cafile=str(cert))
        done = service.test_alert_channel("Mail", senders=Senders(smtp_context=trusted, backoff=0))
        assert done.ok, done.outcome
        assert done.outcome == f"the SMTP server 127.0.0.1:{smtp.port} accepted it"
        [message] = smtp.messages
        assert b"This is a test alert from Grafient to the channel Mail" in message
        service.close()


def test_an_untrusted_certificate_and_a_server_without_starttls_are_one_sentence(tls_files) -> None:
    cert, key = tls_files
    service = GrafientService(Settings.from_env())
    with TlsSmtp(cert, key, mode="starttls") as smtp:
        service.add_alert_channel(
            "email",
            "Mail",
            secret=Secret(PASSWORD),
            to="fin@acme.test",
            smtp=f"127.0.0.1:{smtp.port}",
            user="alerts",
            now=NOW,
        )
        done = service.test_alert_channel("Mail", senders=Senders(backoff=0))  # the system's trust: not this one
        assert not done.ok and smtp.messages == []
        assert done.outcome.startswith(f"the TLS connection to the SMTP server 127.0.0.1:{smtp.port} failed (")
        assert PASSWORD not in done.outcome
    with TlsSmtp(cert, key, mode="plain") as plain:
        service.add_alert_channel(
            "email",
            "Plain",
            secret=Secret(PASSWORD),
            to="fin@acme.test",
            smtp=f"127.0.0.1:{plain.port}",
            user="alerts",
            now=NOW,
        )
        done = service.test_alert_channel("Plain", senders=Senders(backoff=0))
        assert not done.ok and plain.messages == []
        assert done.outcome == (
            f"the SMTP server 127.0.0.1:{plain.port} does not offer STARTTLS; use --security tls, or none on this "
            "machine"
        )
    service.close()
