"""Real servers for tests: Redis, PostgreSQL and nginx from Debian's packages, on 127.0.0.1.

`.ci/run` installs the packages. On a developer machine without them the tests that need them
are skipped with a reason; under CI (CI=true) a missing server is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

POSTGRES_BIN = Path("/usr/lib/postgresql")
NGINX_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str) -> None:
    message = f"{what} is not installed (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class RedisServer:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def flush(self) -> None:
        """Forget every key: the fakes' update ids repeat from test to test."""
        client = Redis.from_url(self.url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _postgres_bin() -> Path | None:
    if not POSTGRES_BIN.is_dir():
        return None
    versions = sorted(POSTGRES_BIN.iterdir(), key=lambda p: p.name)
    return versions[-1] / "bin" if versions else None


class PostgresServer:
    """A throw-away cluster in a temp folder; run as the `postgres` user when we are root."""

    def __init__(self) -> None:
        bindir = _postgres_bin()
        if bindir is None or not (bindir / "initdb").exists():
            _missing("PostgreSQL")
        self.bindir = bindir
        # pytest's tmp_path sits under root-only folders the postgres user cannot enter.
        self.folder = Path(tempfile.mkdtemp(prefix="promo-advisor-pg-"))
        self.data = self.folder / "pgdata"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "advisor") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def create_database(self, name: str) -> None:
        self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(server.folder, ignore_errors=True)


# What deploy/nginx.conf says that only holds in the compose network; NginxServer rewrites these.
NGINX_LISTEN_HTTP = "listen 80;"
NGINX_LISTEN_HTTPS = "listen 443 ssl;"
NGINX_CERTIFICATE = "/etc/nginx/certs/fullchain.pem"
NGINX_CERTIFICATE_KEY = "/etc/nginx/certs/privkey.pem"
# The access log's lines: what the tests read to see which replica served a request, and
# whether nginx tried another one.
NGINX_LOG_FORMAT = '$status $request_method $request_uri "$upstream_addr" "$upstream_status"'


def _replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        pytest.fail(
            f"{NGINX_CONFIG.name}: {old!r} found {count} times, expected once; the config "
            "changed, so the test's rewrite of it (tests/services.py, NginxServer) must too",
            pytrace=False,
        )
    return text.replace(old, new)


@dataclass(frozen=True)
class ProxiedRequest:
    """A line of the test nginx's access log."""

    status: int
    method: str
    uri: str
    upstreams: list[str]  # in the order nginx tried them; [] when it answered itself
    upstream_statuses: list[str]

    @classmethod
    def parse(cls, line: str) -> ProxiedRequest:
        head, addresses, _, statuses, _ = line.split('"')
        status, method, uri = head.split()
        return cls(
            int(status),
            method,
            uri,
            [] if addresses == "-" else addresses.split(", "),
            [] if statuses == "-" else statuses.split(", "),
        )


class NginxServer:
    """deploy/nginx.conf run by a real nginx, its upstreams pointed at test processes.

    Only what a deployment differs in is rewritten, as text: the upstream servers' addresses,
    the listen ports (127.0.0.1, free ports) and the certificate (a self-signed one for
    ``localhost`` and 127.0.0.1); then what nginx needs to run from a temp folder, as any user
    (pid, logs, temp paths). A rewrite that finds nothing fails the test: the config changed.
    ``upstreams`` maps an address of the config (``bot-1:8080``) to a local port.
    """

    def __init__(self, upstreams: Mapping[str, int]) -> None:
        # /usr/sbin is not on every user's PATH.
        binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
        if binary is None:
            _missing("nginx")
        openssl = shutil.which("openssl")
        if openssl is None:
            _missing("openssl")
        self.binary, self.openssl = binary, openssl
        self.upstreams = dict(upstreams)
        # Started as root, nginx runs its workers as nobody, who cannot enter pytest's tmp_path.
        self.folder = Path(tempfile.mkdtemp(prefix="promo-advisor-nginx-"))
        self.folder.chmod(0o755)
        self.config = self.folder / "nginx.conf"
        self.certificate = self.folder / "fullchain.pem"
        self.error_log = self.folder / "error.log"
        self.access_log = self.folder / "access.log"
        self.http_port = free_port()
        self.https_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def render(self) -> str:
        text = NGINX_CONFIG.read_text(encoding="utf-8")
        for address, port in self.upstreams.items():
            text = _replace_once(text, f"server {address} ", f"server 127.0.0.1:{port} ")
        text = _replace_once(text, NGINX_LISTEN_HTTP, f"listen 127.0.0.1:{self.http_port};")
        text = _replace_once(text, NGINX_LISTEN_HTTPS, f"listen 127.0.0.1:{self.https_port} ssl;")
        text = _replace_once(text, NGINX_CERTIFICATE, str(self.certificate))
        text = _replace_once(text, NGINX_CERTIFICATE_KEY, str(self.folder / "privkey.pem"))
        temp = self.folder / "temp"
        http_additions = "".join(
            f"\n    {directive}"
            for directive in (
                f"log_format test_proxy '{NGINX_LOG_FORMAT}';",
                f"access_log {self.access_log} test_proxy;",
                *(
                    f"{kind}_temp_path {temp / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                ),
            )
        )
        text = _replace_once(text, "\nhttp {", "\nhttp {" + http_additions)
        main = f"pid {self.folder / 'nginx.pid'};\nerror_log {self.error_log} warn;\n"
        return main + text

    def _make_certificate(self) -> None:
        subprocess.run(
            [
                self.openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.folder / "privkey.pem"),
                "-out",
                str(self.certificate),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _command(self, *extra: str) -> list[str]:
        folder, error_log, config = str(self.folder), str(self.error_log), str(self.config)
        return [self.binary, "-p", folder, "-e", error_log, "-c", config, *extra]

    def start(self) -> None:
        self._make_certificate()
        (self.folder / "temp").mkdir()
        self.config.write_text(self.render(), encoding="utf-8")
        check = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            pytest.fail(f"nginx -t refuses the config:\n{check.stderr}", pytrace=False)
        self.process = subprocess.Popen(
            self._command("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(self.http_port)
            _wait_port(self.https_port)
        except TimeoutError:
            self.stop()
            raise

    def requests(self) -> list[ProxiedRequest]:
        """What nginx answered so far, in order."""
        lines = self.access_log.read_text(encoding="utf-8").splitlines()
        return [ProxiedRequest.parse(line) for line in lines if line]

    def errors(self) -> str:
        return self.error_log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # fast shutdown
            self.process.wait(timeout=10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def nginx_server(upstreams: Mapping[str, int]) -> Iterator[NginxServer]:
    server = NginxServer(upstreams)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
