"""Shared security test fixture (issue 17): certificates, secured brokers and
client configurations for every client the suite drives.

Certificates are made with the `openssl` CLI into a per-session temp dir
(`certs` fixture, session scope; ~0.5 s).  Everything is PEM; keys are
unencrypted except `broker-enc.key` / `alice-enc.key` (password KEY_PASSWORD).

    ca.pem / ca.key            the CA that signs the broker and alice/bob
    broker.pem, broker.key     CN=localhost, SAN DNS:localhost, IP:127.0.0.1
    broker-keystore.pem        broker key + certificate + CA (ssl.keystore.location)
    broker-enc-keystore.pem    the same with the key encrypted (ssl.key.password)
    broker-keystore.p12        the broker key + chain as PKCS12 (password KEY_PASSWORD)
    broker2-keystore.pem       a second broker certificate: same subject and SANs, other key
                               and serial (a keystore reload Kafka accepts)
    broker3-keystore.pem       another one with subject O=Samsa3 (refused on reload unless
                               ssl.allow.dn.changes=true)
    alice.pem/.key, bob.pem/.key   client certificates, CN=alice / CN=bob (O=Samsa, C=US)
    alice-enc.key              alice's key encrypted with KEY_PASSWORD
    ca2.pem, mallory.pem/.key  a second CA and a client certificate it signed
    expired.pem/.key           CN=expired, signed by ca.pem, valid 2020-01-01..2021-01-01

Brokers: `SecureBroker(workdir, certs, protocol="SSL"|"SASL_PLAINTEXT"|"SASL_SSL",
plain=True, client_auth=None, keystore=None, extra={...})` is a conftest.Broker
whose `port`/`bootstrap` is the secured listener (named like its protocol, so
`listener.name.<protocol lower>.*` keys apply) plus, with plain=True, a
PLAINTEXT listener (`plain_port`, `plain_bootstrap`, also the inter-broker
listener) for setup steps that need no security; `start_secure_broker(...)`
starts one (module-scoped fixtures: stop it in teardown); `broker_overrides(...)`
gives just the overrides (for cluster.py or a broker_factory).  Extra
properties pass through unchanged (sasl.*, ssl.client.auth, ...).

Clients: `confluent_conf`, `kafka_python_conf`, `kcat_args`, `kafkajs_conf`
build each client's settings for SSL / SASL_PLAINTEXT / SASL_SSL from the
same arguments: client=None|"alice"|"bob"|"mallory"|"expired",
sasl=None|{"mechanism":..., "username":..., "password":...}.
"""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Broker, free_port

KEY_PASSWORD = "keypass-17"
SUBJECT_BASE = "/C=US/O=Samsa"


def _ossl(*args, cwd):
    cp = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=30)
    if cp.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: "
                           f"{cp.stderr.decode(errors='replace')}")
    return cp.stdout


_CA_CNF = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[ policy_any ]
commonName = supplied
organizationName = optional
countryName = optional
[ v3_client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
"""


class Certs:
    """Paths (str) of the generated PEM files; see the module docstring."""

    def __init__(self, d):
        self.dir = Path(d)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key_password = KEY_PASSWORD
        self._serial = 0x1000
        self._make()

    def path(self, name):
        return str(self.dir / name)

    def _key(self, name):
        _ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", name, cwd=self.dir)

    def _ca(self, name, cn):
        self._key(f"{name}.key")
        _ossl("req", "-x509", "-new", "-key", f"{name}.key", "-sha256", "-days", "3650",
              "-subj", f"{SUBJECT_BASE}/CN={cn}", "-out", f"{name}.pem",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def _leaf(self, name, ca, subj, ext):
        self._key(f"{name}.key")
        _ossl("req", "-new", "-key", f"{name}.key", "-subj", subj, "-out", f"{name}.csr",
              cwd=self.dir)
        (self.dir / f"{name}.ext").write_text(ext)
        self._serial += 1
        _ossl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
              "-set_serial", str(self._serial), "-days", "825", "-sha256",
              "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=self.dir)

    def _keystore(self, out, key, cert, ca="ca.pem"):
        d = self.dir
        (d / out).write_text((d / key).read_text() + (d / cert).read_text() + (d / ca).read_text())

    def _make(self):
        d = self.dir
        self._ca("ca", "Samsa Test CA")
        self._ca("ca2", "Samsa Other CA")
        server_ext = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                      "extendedKeyUsage=serverAuth,clientAuth\n"
                      "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        client_ext = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                      "extendedKeyUsage=clientAuth\n")
        self._leaf("broker", "ca", f"{SUBJECT_BASE}/CN=localhost", server_ext)
        self._leaf("broker2", "ca", f"{SUBJECT_BASE}/CN=localhost", server_ext)
        self._leaf("broker3", "ca", "/C=US/O=Samsa3/CN=localhost", server_ext)
        for who in ("alice", "bob"):
            self._leaf(who, "ca", f"{SUBJECT_BASE}/CN={who}", client_ext)
        self._leaf("mallory", "ca2", f"{SUBJECT_BASE}/CN=mallory", client_ext)
        self._keystore("broker-keystore.pem", "broker.key", "broker.pem")
        self._keystore("broker2-keystore.pem", "broker2.key", "broker2.pem")
        self._keystore("broker3-keystore.pem", "broker3.key", "broker3.pem")
        for who in ("broker", "alice"):
            _ossl("pkey", "-in", f"{who}.key", "-aes-256-cbc", "-passout",
                  f"pass:{KEY_PASSWORD}", "-out", f"{who}-enc.key", cwd=d)
        self._keystore("broker-enc-keystore.pem", "broker-enc.key", "broker.pem")
        # PKCS12 stores (password KEY_PASSWORD): ssl.keystore.type=PKCS12
        _ossl("pkcs12", "-export", "-inkey", "broker.key", "-in", "broker.pem", "-certfile",
              "ca.pem", "-passout", f"pass:{KEY_PASSWORD}", "-out", "broker-keystore.p12", cwd=d)
        # An expired client certificate: `openssl ca` takes explicit dates.
        (d / "newcerts").mkdir(exist_ok=True)
        (d / "index.txt").write_text("")
        (d / "serial").write_text("2000\n")
        (d / "ca.cnf").write_text(_CA_CNF.format(dir=d))
        self._key("expired.key")
        _ossl("req", "-new", "-key", "expired.key", "-subj", f"{SUBJECT_BASE}/CN=expired",
              "-out", "expired.csr", cwd=d)
        _ossl("ca", "-config", "ca.cnf", "-batch", "-notext", "-cert", "ca.pem",
              "-keyfile", "ca.key", "-startdate", "20200101000000Z",
              "-enddate", "20210101000000Z", "-extensions", "v3_client",
              "-in", "expired.csr", "-out", "expired.pem", cwd=d)

    # ---- what a test asks for
    def ca(self, which="ca"):
        return self.path(f"{which}.pem")

    def client(self, who, encrypted=False):
        """(certificate, key) of a client: alice, bob, mallory, expired."""
        key = f"{who}-enc.key" if encrypted else f"{who}.key"
        return self.path(f"{who}.pem"), self.path(key)

    def subject(self, who):
        """The RFC 2253 DN Kafka prints for a client certificate."""
        return f"CN={who},O=Samsa,C=US"

    def serial(self, cert):
        out = _ossl("x509", "-in", cert, "-noout", "-serial", cwd=self.dir).decode()
        return int(out.strip().split("=", 1)[1], 16)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("certs"))


# ---- brokers --------------------------------------------------------------------------------
def broker_overrides(certs, protocol="SSL", port=None, plain_port=None, keystore=None,
                     client_auth=None, extra=None):
    """Overrides for a broker with a `protocol` listener on `port` (named like the
    protocol, so listener.name.<protocol lower>.* keys apply) and a PLAINTEXT one on
    plain_port (None = none)."""
    port = port or free_port()
    listeners = [f"{protocol}://127.0.0.1:{port}"]
    if plain_port:
        listeners.append(f"PLAINTEXT://127.0.0.1:{plain_port}")
    ov = {"listeners": ",".join(listeners)}
    if plain_port:
        ov["inter.broker.listener.name"] = "PLAINTEXT"
    if protocol in ("SSL", "SASL_SSL"):
        ov["ssl.keystore.type"] = "PEM"
        ov["ssl.keystore.location"] = keystore or certs.path("broker-keystore.pem")
        ov["ssl.truststore.type"] = "PEM"
        ov["ssl.truststore.location"] = certs.ca()
    if client_auth:
        ov["ssl.client.auth"] = client_auth
    ov.update({k: str(v) for k, v in (extra or {}).items()})
    return ov


class SecureBroker(Broker):
    """A Broker whose `port`/`bootstrap` is the secured listener; `plain_bootstrap`
    (if plain=True) is a PLAINTEXT listener on the same broker."""

    def __init__(self, workdir, certs, protocol="SSL", plain=True, client_auth=None,
                 keystore=None, extra=None, name="secbroker", **kw):
        port = free_port()
        self.plain_port = free_port() if plain else None
        self.protocol = protocol
        self.certs = certs
        super().__init__(workdir, port=port, name=name, **kw)
        self.overrides.update(broker_overrides(certs, protocol, port, self.plain_port,
                                               keystore, client_auth, extra))

    @property
    def plain_bootstrap(self):
        assert self.plain_port, "started without a PLAINTEXT listener"
        return f"127.0.0.1:{self.plain_port}"


def start_secure_broker(workdir, certs, protocol="SSL", **kw):
    """Start and return a SecureBroker (stop it with .stop() in the fixture's teardown)."""
    return SecureBroker(workdir, certs, protocol, **kw).start()


# ---- clients --------------------------------------------------------------------------------
def _proto(tls, sasl):
    return ("SASL_SSL" if tls else "SASL_PLAINTEXT") if sasl else ("SSL" if tls else "PLAINTEXT")


def confluent_conf(bootstrap, certs=None, client=None, sasl=None, ca="ca", tls=True,
                   encrypted_key=False, verify_hostname=True, **extra):
    """confluent-kafka (librdkafka) settings."""
    c = {"bootstrap.servers": bootstrap, "security.protocol": _proto(tls, sasl)}
    if tls:
        if ca:
            c["ssl.ca.location"] = certs.ca(ca)
        if client:
            cert, key = certs.client(client, encrypted_key)
            c["ssl.certificate.location"] = cert
            c["ssl.key.location"] = key
            if encrypted_key:
                c["ssl.key.password"] = certs.key_password
        c["ssl.endpoint.identification.algorithm"] = "https" if verify_hostname else "none"
    if sasl:
        c["sasl.mechanism"] = sasl["mechanism"]
        if "username" in sasl:
            c["sasl.username"] = sasl["username"]
            c["sasl.password"] = sasl["password"]
    c.update(extra)
    return c


def kafka_python_conf(bootstrap, certs=None, client=None, sasl=None, ca="ca", tls=True,
                      encrypted_key=False, verify_hostname=True, **extra):
    """kafka-python keyword arguments."""
    c = {"bootstrap_servers": bootstrap, "security_protocol": _proto(tls, sasl)}
    if tls:
        c["ssl_check_hostname"] = verify_hostname
        if ca:
            c["ssl_cafile"] = certs.ca(ca)
        if client:
            cert, key = certs.client(client, encrypted_key)
            c["ssl_certfile"] = cert
            c["ssl_keyfile"] = key
            if encrypted_key:
                c["ssl_password"] = certs.key_password
    if sasl:
        c["sasl_mechanism"] = sasl["mechanism"]
        if "username" in sasl:
            c["sasl_plain_username"] = sasl["username"]
            c["sasl_plain_password"] = sasl["password"]
    c.update(extra)
    return c


def kcat_args(bootstrap, certs=None, client=None, sasl=None, ca="ca", tls=True,
              encrypted_key=False, verify_hostname=True):
    """kcat command-line arguments (-b and -X ...)."""
    conf = confluent_conf(bootstrap, certs, client, sasl, ca, tls, encrypted_key,
                          verify_hostname)
    args = ["-b", conf.pop("bootstrap.servers")]
    for k, v in conf.items():
        args += ["-X", f"{k}={v}"]
    return args


def kafkajs_conf(bootstrap, certs=None, client=None, sasl=None, ca="ca", tls=True,
                 encrypted_key=False, verify_hostname=True):
    """A dict for kafkajs' `new Kafka({...})` (JSON-serialisable: PEM text inline)."""
    c = {"brokers": [bootstrap]}
    if tls:
        ssl = {"rejectUnauthorized": True}
        if ca:
            ssl["ca"] = [Path(certs.ca(ca)).read_text()]
        if client:
            cert, key = certs.client(client, encrypted_key)
            ssl["cert"] = Path(cert).read_text()
            ssl["key"] = Path(key).read_text()
            if encrypted_key:
                ssl["passphrase"] = certs.key_password
        if not verify_hostname:
            ssl["checkServerIdentity"] = None     # the harness maps null to () => undefined
        c["ssl"] = ssl
    if sasl:
        c["sasl"] = {"mechanism": sasl["mechanism"].lower(),
                     **({"username": sasl["username"], "password": sasl["password"]}
                        if "username" in sasl else {})}
    return c


def tls_env():
    """Environment for subprocesses that must not inherit SSL_CERT_* overrides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT")}
