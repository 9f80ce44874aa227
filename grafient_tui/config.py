"""Where Grafient keeps its files, and the settings that come from the environment.

Every directory we create is 0700 and every file 0600, set explicitly so the
user's umask cannot widen them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import sys
import tomllib
from urllib.parse import urlsplit
from dataclasses import dataclass
from pathlib import Path

from grafient_tui.errors import ConfigError

APP_NAME = "grafient"
DEFAULT_CURSOR_API_URL = "https://api.cursor.com"
DEFAULT_RPM = 20
DEFAULT_MAX_RESPONSE_MB = 64
DEFAULT_REQUEST_DEADLINE = 120.0  # seconds for one request: connect, headers and the whole body
DEFAULT_SYNC_DEADLINE = 3600.0  # seconds for one integration's sync
MB = 1024 * 1024
PLANS = {"free": 30, "pro": 365, "ultimate": 365}
DEFAULT_PLAN = "free"
PERIODS = (7, 30, 90)

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents we own) as 0700; tighten it if it is too open."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != DIR_MODE:
        if mode & 0o077:
            print(
                f"grafient: warning: {path} was readable by others; tightened it to 0700",
                file=sys.stderr,
            )
        os.chmod(path, DIR_MODE)
    return path


def ensure_private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it does not exist, else make sure it is 0600."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE)
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`; the file is 0600 from its first byte."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Settings:
    """Everything that decides where files live and whom we talk to."""

    config_dir: Path
    data_dir: Path
    database_url: str
    cursor_api_url: str
    cursor_rpm: float
    backoff_base: float
    master_key_b64: str | None
    # Limits on what an answer may cost us (see the README, "Untrusted answers").
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_MB * MB
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    sync_deadline: float = DEFAULT_SYNC_DEADLINE

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def master_key_file(self) -> Path:
        return self.config_dir / "master.key"

    @property
    def database_file(self) -> Path | None:
        """The SQLite file when the database is the default one (or any sqlite file URL)."""
        match = re.match(r"^sqlite(?:\+\w+)?:///(.+)$", self.database_url)
        if not match or match.group(1) == ":memory:":
            return None
        return Path(match.group(1))

    @property
    def lock_dir(self) -> Path:
        return self.data_dir / "locks"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = env.get("GRAFIENT_HOME")
        if home:
            config_dir = data_dir = Path(home).expanduser().absolute()
        else:
            import platformdirs

            config_dir = Path(platformdirs.user_config_dir(APP_NAME))
            data_dir = Path(platformdirs.user_data_dir(APP_NAME))
        database_url = env.get("GRAFIENT_DATABASE_URL") or f"sqlite:///{data_dir / 'grafient.db'}"
        api_url = (env.get("GRAFIENT_CURSOR_API_URL") or DEFAULT_CURSOR_API_URL).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", api_url):
            raise ConfigError(f"GRAFIENT_CURSOR_API_URL must be an http(s) URL, not {api_url!r}.")
        _check_plaintext(api_url, env.get("GRAFIENT_ALLOW_INSECURE_HTTP") == "1")
        return cls(
            config_dir=config_dir,
            data_dir=data_dir,
            database_url=database_url,
            cursor_api_url=api_url,
            cursor_rpm=_positive_number(env, "GRAFIENT_CURSOR_RPM", DEFAULT_RPM, allow_zero=True),
            backoff_base=_positive_number(env, "GRAFIENT_BACKOFF_BASE", 1.0, allow_zero=True),
            master_key_b64=env.get("GRAFIENT_MASTER_KEY") or None,
            max_response_bytes=max(1, int(_positive_number(env, "GRAFIENT_MAX_RESPONSE_MB", DEFAULT_MAX_RESPONSE_MB,
                                                           allow_zero=False) * MB)),
            request_deadline=_positive_number(env, "GRAFIENT_REQUEST_DEADLINE", DEFAULT_REQUEST_DEADLINE,
                                              allow_zero=False),
            sync_deadline=_positive_number(env, "GRAFIENT_SYNC_DEADLINE", DEFAULT_SYNC_DEADLINE, allow_zero=False),
        )

    # The config file holds a few top-level values (plan, period) and a
    # [keymap] table the user edits by hand. We change single lines in place
    # so their comments and tables survive.
    def read_config(self) -> dict:
        try:
            text = self.config_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.config_file} is not valid TOML: {exc}.") from None

    def write_config_value(self, key: str, value: str | int) -> None:
        self.read_config()  # refuse to edit a file we cannot parse
        try:
            lines = self.config_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        rendered = f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}"
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
        for i in range(first_table):
            if pattern.match(lines[i]):
                lines[i] = rendered
                break
        else:
            lines.insert(first_table, rendered)
        write_private_file(self.config_file, ("\n".join(lines) + "\n").encode("utf-8"))

    def plan(self) -> str:
        plan = self.read_config().get("plan", DEFAULT_PLAN)
        if plan not in PLANS:
            raise ConfigError(f"plan in {self.config_file} must be one of free, pro, ultimate, not {plan!r}.")
        return plan

    def backfill_days(self) -> int:
        return PLANS[self.plan()]

    def set_plan(self, plan: str) -> None:
        if plan not in PLANS:
            raise ConfigError(f"plan must be one of free, pro, ultimate, not {plan!r}.")
        self.write_config_value("plan", plan)

    def period(self) -> int:
        period = self.read_config().get("period", 30)
        return period if period in PERIODS else 30

    def set_period(self, days: int) -> None:
        self.write_config_value("period", int(days))

    def keymap(self) -> dict[str, str]:
        table = self.read_config().get("keymap", {})
        if not isinstance(table, dict):
            raise ConfigError(f"[keymap] in {self.config_file} must be a table of action = \"keys\".")
        return {str(k): str(v) for k, v in table.items()}

    def ensure_dirs(self) -> None:
        ensure_private_dir(self.config_dir)
        ensure_private_dir(self.data_dir)


def _positive_number(env: dict[str, str], name: str, default: float, *, allow_zero: bool) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.") from None
    if value != value or value < 0 or (value == 0 and not allow_zero) or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number, not {raw!r}.")
    return value


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: an address that never leaves this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_plaintext(api_url: str, allowed: bool) -> None:
    """The key goes in every request's Authorization header: over plain http it would cross
    the network readable by anyone on the path. Loopback (a local proxy, the tests) is fine."""
    scheme, _, rest = api_url.partition("://")
    if scheme.lower() != "http":
        return
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority or "\\" in authority:
        # user:password@host and backslashes are read differently by different URL parsers
        raise ConfigError("GRAFIENT_CURSOR_API_URL must be a plain scheme://host[:port] address, without a user name.")
    host = urlsplit(api_url).hostname or ""
    if is_loopback_host(host):
        return
    if not allowed:
        raise ConfigError(
            f"GRAFIENT_CURSOR_API_URL must use https for {host or 'that host'} (plain http would send the API key "
            "unencrypted); set GRAFIENT_ALLOW_INSECURE_HTTP=1 to allow it anyway."
        )
    print(f"grafient: warning: GRAFIENT_ALLOW_INSECURE_HTTP=1: the API key will be sent unencrypted to {host}.",
          file=sys.stderr)
