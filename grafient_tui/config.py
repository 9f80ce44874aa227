"""Where Grafient keeps its files, and the settings that come from the environment.

Every directory we create is 0700 and every file 0600, set explicitly so the
user's umask cannot widen them. A directory we did not create (a GRAFIENT_HOME
made by hand, /tmp, a project dir holding the database) is never chmodded: if
it is Grafient's own home and open to others, we warn instead. No mode change
follows a symlink.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from grafient_tui import providers
from grafient_tui.errors import ConfigError
from grafient_tui.untrusted import cap, quoted, visible

APP_NAME = "grafient"
DEFAULT_CURSOR_API_URL = providers.row("cursor").base_url
# Each provider's documented API address, from its registry row; overridable with GRAFIENT_<NAME>_API_URL
# (a proxy, the tests' fake).
DEFAULT_API_URLS = {name: providers.row(name).base_url for name in providers.names()}
# Other addresses a provider calls, each overridable with its own variable (name -> variable, default):
# Google's token endpoint is not under its API's base URL.
OTHER_URLS = {"google_token": ("GRAFIENT_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")}
DEFAULT_RPM = 20
DEFAULT_MAX_RESPONSE_MB = 64
DEFAULT_REQUEST_DEADLINE = 120.0  # seconds for one request: connect, headers and the whole body
DEFAULT_SYNC_DEADLINE = 3600.0  # seconds for one integration's sync
DEFAULT_CHECK_DEADLINE = 300.0  # seconds for checking a key (add, rekey), every page of it together
MB = 1024 * 1024
PLANS = {"free": 30, "pro": 365, "ultimate": 365}
DEFAULT_PLAN = "free"
PERIODS = (7, 30, 90)
DAILY_SYNC_HOUR_UTC = 6  # the daily sync is due once this hour has passed (cron's and the app's)

DIR_MODE = 0o700
FILE_MODE = 0o600


OPEN_TO_OTHERS = 0o077

_warned: set[str] = set()  # one warning per directory per process (the app opens the store more than once)


def _warn_once(path: Path, sentence: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        print(f"grafient: warning: {visible(sentence)}", file=sys.stderr)


def fix_mode(path: Path, mode: int) -> bool:
    """Set `path`'s mode unless it is a symlink (its target is left alone).

    By path, never through a descriptor of our own: closing any descriptor of a file drops every
    POSIX lock this process holds on it, and SQLite's connections hold theirs on the database and
    its -wal/-shm files; losing them lets another process truncate a -shm this one has mapped
    (SIGBUS). False when `path` is a symlink or cannot be changed.
    """
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return False
        if stat.S_IMODE(info.st_mode) != mode:
            os.chmod(path, mode)
        return True
    except OSError:
        return False


WRITABLE_BY_OTHERS = 0o022


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def check_trusted(path: Path, what: str, *, fixable: bool = False) -> None:
    """ssh's rule for a file or folder whose content Grafient trusts (a home, `master.key`, the database
    and its folder, `config.toml`): owned by this user (or root) and writable by no one else, or
    another local user could have planted it (their master key sealing your API keys, their
    database storing them). Otherwise ConfigError with one sentence saying what to do; except that
    Grafient's own (`fixable`: its home folders and files), owned by this user, is narrowed in place
    (go-w; 0600 for a file), with a warning. Missing is fine (Grafient creates it, private). Checked
    on the path and, for a symlink, on the link and what it leads to."""
    try:
        link = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return  # missing (or under a file): what uses the path says so, or creates it private
    except OSError as exc:
        raise ConfigError(f"{path} cannot be checked ({exc.strerror or exc}).") from None
    try:
        target = os.stat(path) if stat.S_ISLNK(link.st_mode) else link
    except OSError:
        target = None  # a dangling link: its owner is all there is to check here
    me = os.geteuid()
    for info in (link, target or link):
        if info.st_uid not in (me, 0):
            raise ConfigError(
                f"{path} belongs to another user ({_owner_name(info.st_uid)}), who could have put {what} there; "
                f"Grafient will not use it: move it away (or, if it is yours, `chown {_owner_name(me)} {path}`)."
            )
    if target is None:
        return  # a link's own mode means nothing; what uses the path says it leads nowhere
    mode = stat.S_IMODE(target.st_mode)
    if not mode & WRITABLE_BY_OTHERS:
        return
    is_dir = stat.S_ISDIR(target.st_mode)
    if fixable and target.st_uid == me and not stat.S_ISLNK(link.st_mode):
        narrowed = mode & ~WRITABLE_BY_OTHERS if is_dir else FILE_MODE
        if fix_mode(path, narrowed):
            _warn_once(path, f"{path} was writable by other users (mode {mode:o}); narrowed it to {narrowed:o}.")
            return
    raise ConfigError(
        f"{path} is writable by other users, who could replace {what}; Grafient will not use it: "
        f"run `chmod go-w {path}`, or use a {'folder' if is_dir else 'file'} only you can write."
    )


def ensure_private_dir(path: Path, *, ours: bool = True) -> Path:
    """Make sure `path` is a directory, creating each missing level as 0700 whatever the umask.

    A directory we did not create here is never chmodded: it may be /tmp, a project directory or
    a user's shared folder. When it is Grafient's own (`ours`: the home, config and data dirs and
    what is below them) and open to others, we say so on stderr instead.
    """
    path = Path(path)
    missing: list[Path] = []
    level = path
    while not os.path.lexists(level) and level != level.parent:
        missing.append(level)
        level = level.parent
    for level in reversed(missing):
        try:
            os.mkdir(level, DIR_MODE)  # never wider than 0700, even for an instant
        except FileExistsError:
            continue  # another process made it first: not ours to chmod
        except OSError as exc:
            raise ConfigError(f"cannot create the directory {level}: {exc.strerror or exc}.") from None
        fix_mode(level, DIR_MODE)  # the umask may have narrowed it (say 0500); we need 0700 exactly
    if not path.is_dir():
        raise ConfigError(f"{path} is not a directory; Grafient needs a directory there.")
    if ours and not missing:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & OPEN_TO_OTHERS:
            _warn_once(
                path,
                f"{path} is open to other users (mode {mode:o}); Grafient left it as it is, "
                f"run `chmod 700 {path}` to keep them out of its files.",
            )
    return path


def ensure_private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it does not exist, else make sure it is 0600.

    A symlink is refused if it leads nowhere, and its target's mode is never changed.
    """
    ensure_private_dir(path.parent, ours=False)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        if os.path.islink(path) and not path.exists():
            raise ConfigError(
                f"{path} is a symlink to a file that does not exist; point it at a real file or remove it."
            ) from None
        if not path.is_file():
            raise ConfigError(f"{path} is not a regular file.") from None
        fix_mode(path, FILE_MODE)
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path


def tighten_key_file(path: Path) -> None:
    """A key file that others can read is narrowed to 0600, with a warning (never through a symlink)."""
    try:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        return
    if not mode & OPEN_TO_OTHERS:
        return
    if os.path.islink(path):
        return  # the link's own mode means nothing, and its target is not ours to change
    if fix_mode(path, FILE_MODE):
        _warn_once(path, f"{path} was readable by others (mode {mode:o}); tightened it to 600.")


def write_private_file(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`; the file is 0600 from its first byte."""
    ensure_private_dir(path.parent)
    _replace_privately(path, data)


def _replace_privately(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write `data` to a new file beside `path` (0600 from its first byte, then `mode`), fsync it, then
    rename it over `path`, which replaces a link planted there, never follows it: a reader sees the old
    file or the new one, never half of one. The temporary name is random and opened O_EXCL|O_NOFOLLOW
    (mkstemp), so nothing planted in a shared folder is opened; it ends in `.tmp`, a name
    node_exporter's textfile collector ignores."""
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """A rename made durable (best effort: some file systems cannot fsync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_output_file(path: Path, data: bytes, *, new_mode: int = FILE_MODE, keep_mode: bool = False) -> None:
    """Replace the file a user named (`--output`) atomically with `data`, in a folder that must exist
    (it is never created or chmodded: it is the user's). A new file is `new_mode` (0600 unless the
    caller says why not); an existing one is replaced by a file of `new_mode`, or of its own mode with
    `keep_mode`. Refused with one sentence: a symbolic link (someone may have planted it, where another
    user can write), anything but a regular file, and a file another user owns (its mode is theirs)."""
    path = Path(path)
    shown = visible(str(path))
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise ConfigError(f"cannot write {shown}: {visible(exc.strerror or str(exc))}.") from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise ConfigError(
                f"{shown} is a symbolic link; Grafient does not write through one (name the file itself)."
            )
        if not stat.S_ISREG(found.st_mode):
            raise ConfigError(f"{shown} is not a regular file; Grafient writes only to one.")
        if found.st_uid != os.getuid():
            raise ConfigError(f"{shown} belongs to another user; Grafient does not replace it.")
    if not path.parent.is_dir():
        raise ConfigError(f"{visible(str(path.parent))} is not a directory; create it first.")
    mode = stat.S_IMODE(found.st_mode) if keep_mode and found is not None else new_mode
    try:
        _replace_privately(path, data, mode)
    except OSError as exc:
        raise ConfigError(f"cannot write {shown}: {visible(exc.strerror or str(exc))}.") from None


def without_password(url: str) -> str:
    """`url` with any password taken out: `user:secret@host` and a `password=` query parameter
    (libpq reads both). What is left names the database, never a secret."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.split(':', 1)[0]}@{host}"
    query = "&".join(pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0].casefold() != "password")
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing to take out (and urlunsplit would drop sqlite:///'s empty host)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class Settings:
    """Everything that decides where files live and whom we talk to. Its repr shows no secret: the
    master key is left out and the database URL shown without its password."""

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
    check_deadline: float = DEFAULT_CHECK_DEADLINE
    # provider name -> API base URL, and -> requests per minute when GRAFIENT_<NAME>_RPM is set
    api_urls: Mapping[str, str] = field(default_factory=dict)
    rpms: Mapping[str, float] = field(default_factory=dict)
    # The plan a shared database's team has set (store/team.py); it wins over config.toml.
    team_plan: str | None = None
    # Team settings read from a shared database that this Grafient cannot use (a pace that is no
    # number of requests per minute, a plan it does not know): setting name -> the sentence saying so.
    # Not applied; a sync that depends on one fails with its sentence.
    team_problems: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={without_password(self.database_url)!r}"
            if f.name == "database_url"
            else f"{f.name}={'<hidden>' if getattr(self, f.name) else None}"
            if f.name == "master_key_b64"
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Settings({shown})"

    def api_url(self, provider: str) -> str:
        """The base URL for `provider`'s API: GRAFIENT_<NAME>_API_URL, else its documented address
        (also an address of OTHER_URLS by its name, e.g. "google_token")."""
        if provider == "cursor":
            return self.cursor_api_url
        if provider in OTHER_URLS:
            return self.api_urls.get(provider) or OTHER_URLS[provider][1]
        return self.api_urls.get(provider) or DEFAULT_API_URLS[provider]

    def rpm(self, provider: str, default: float) -> float:
        """Requests per minute for `provider`: GRAFIENT_<NAME>_RPM, else the provider's own default."""
        if provider == "cursor":
            return self.cursor_rpm
        return self.rpms.get(provider, default)

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
        insecure_ok = env.get("GRAFIENT_ALLOW_INSECURE_HTTP") == "1"
        urls: dict[str, str] = {}
        rpms: dict[str, float] = {}
        for provider, default in DEFAULT_API_URLS.items():
            variable = f"GRAFIENT_{provider.upper()}_API_URL"
            raw = env.get(variable)
            if provider != "cursor" and env.get(f"GRAFIENT_{provider.upper()}_RPM"):
                rpms[provider] = _positive_number(env, f"GRAFIENT_{provider.upper()}_RPM", 0, allow_zero=True)
            if provider != "cursor" and not raw:
                continue
            url = (raw or default).rstrip("/")
            if not re.match(r"^https?://[^/\s]+", url):
                raise ConfigError(f"{variable} must be an http(s) URL, not {url!r}.")
            _check_plaintext(url, insecure_ok, variable)
            urls[provider] = url
        for name, (variable, _default) in OTHER_URLS.items():
            raw = env.get(variable)
            if raw:
                url = raw.rstrip("/")
                if not re.match(r"^https?://[^/\s]+", url):
                    raise ConfigError(f"{variable} must be an http(s) URL, not {url!r}.")
                _check_plaintext(url, insecure_ok, variable)
                urls[name] = url
        api_url = urls.pop("cursor")
        return cls(
            config_dir=config_dir,
            data_dir=data_dir,
            database_url=database_url,
            cursor_api_url=api_url,
            cursor_rpm=_positive_number(env, "GRAFIENT_CURSOR_RPM", DEFAULT_RPM, allow_zero=True),
            backoff_base=_positive_number(env, "GRAFIENT_BACKOFF_BASE", 1.0, allow_zero=True),
            master_key_b64=env.get("GRAFIENT_MASTER_KEY") or None,
            max_response_bytes=max(
                1,
                int(_positive_number(env, "GRAFIENT_MAX_RESPONSE_MB", DEFAULT_MAX_RESPONSE_MB, allow_zero=False) * MB),
            ),
            request_deadline=_positive_number(
                env, "GRAFIENT_REQUEST_DEADLINE", DEFAULT_REQUEST_DEADLINE, allow_zero=False
            ),
            sync_deadline=_positive_number(env, "GRAFIENT_SYNC_DEADLINE", DEFAULT_SYNC_DEADLINE, allow_zero=False),
            check_deadline=_positive_number(env, "GRAFIENT_CHECK_DEADLINE", DEFAULT_CHECK_DEADLINE, allow_zero=False),
            api_urls=urls,
            rpms=rpms,
        )

    # The config file holds a few top-level values (plan, period) and a
    # [keymap] table the user edits by hand. We change single lines in place
    # so their comments and tables survive.
    def read_config(self) -> dict[str, Any]:
        check_trusted(self.config_dir, "config.toml", fixable=True)
        check_trusted(self.config_file, "its settings", fixable=True)
        try:
            text = self.config_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except IsADirectoryError:
            raise ConfigError(f"{self.config_file} is a directory; Grafient expects its config file there.") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{self.config_file} is not UTF-8 text, so it cannot be TOML.") from None
        except OSError as exc:
            raise ConfigError(f"{self.config_file} cannot be read ({exc.strerror or exc}).") from None
        import tomllib  # here: most commands never read the config file

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.config_file} is not valid TOML: {' '.join(str(exc).split())}.") from None

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
        if self.team_plan is not None:
            return self.team_plan
        plan = self.read_config().get("plan", DEFAULT_PLAN)
        if not isinstance(plan, str) or plan not in PLANS:  # `plan = ["pro"]` is TOML too, and unhashable
            shown = repr(plan) if isinstance(plan, str) else f"a {type(plan).__name__}"
            raise ConfigError(f"plan in {self.config_file} must be one of free, pro, ultimate, not {shown}.")
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

    def anomalies(self) -> dict[str, Any]:
        """config.toml's [anomalies] table (ratio, min_amount), as written: grafient_tui.anomalies.settings
        checks its values (the defaults when it is absent)."""
        table = self.read_config().get("anomalies", {})
        if not isinstance(table, dict):
            raise ConfigError(
                f"[anomalies] in {self.config_file} must be a table, like ratio = 1.5 and min_amount = 20."
            )
        return table

    def keymap(self) -> dict[str, str]:
        table = self.read_config().get("keymap", {})
        if not isinstance(table, dict):
            raise ConfigError(f'[keymap] in {self.config_file} must be a table of action = "keys".')
        for binding_id, keys in table.items():
            if not isinstance(keys, str):  # a number or a table would be bound as its text
                raise ConfigError(
                    f"[keymap] in {self.config_file}: {quoted(cap(str(binding_id), 40))} must be keys in quotes, "
                    'such as "s" or "ctrl+s,f5".'
                )
        return {str(k): v for k, v in table.items()}

    def desktop_alerts(self) -> bool:
        """`[alerts] desktop = true` in config.toml: the app also asks the terminal for a desktop
        notification (OSC 9 / OSC 777) beside its toast and bell. Off unless asked for."""
        table = self.read_config().get("alerts", {})
        if not isinstance(table, dict):
            raise ConfigError(f"[alerts] in {self.config_file} must be a table, such as `desktop = true`.")
        desktop = table.get("desktop", False)
        if not isinstance(desktop, bool):
            raise ConfigError(f"[alerts] desktop in {self.config_file} must be true or false.")
        return desktop

    def check_home(self) -> None:
        """Grafient's home folders and files are this user's and writable by no one else (check_trusted:
        one of them only too open is narrowed, one owned by another user refused), before anything
        is read from them: every command and the app start here."""
        for path in (self.config_dir, self.data_dir):
            check_trusted(path, "Grafient's files", fixable=True)
        check_trusted(self.config_file, "its settings", fixable=True)
        if self.master_key_b64 is None:
            check_trusted(self.master_key_file, "the key that seals your API keys", fixable=True)

    def ensure_dirs(self) -> None:
        self.check_home()
        ensure_private_dir(self.config_dir)
        ensure_private_dir(self.data_dir)

    def warn_about_open_dirs(self) -> None:
        """Say now (before the app takes the terminal) if the existing home is open to others."""
        self.check_home()
        for path in (self.config_dir, self.data_dir):
            if path.is_dir():
                ensure_private_dir(path)  # creates nothing here: it only looks, and warns once


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
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_plaintext(api_url: str, allowed: bool, variable: str = "GRAFIENT_CURSOR_API_URL") -> None:
    """The key goes in every request's Authorization header: over plain http it would cross
    the network readable by anyone on the path. Loopback (a local proxy, the tests) is fine."""
    scheme, _, rest = api_url.partition("://")
    if scheme.lower() != "http":
        return
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority or "\\" in authority:
        # user:password@host and backslashes are read differently by different URL parsers
        raise ConfigError(f"{variable} must be a plain scheme://host[:port] address, without a user name.")
    host = urlsplit(api_url).hostname or ""
    if is_loopback_host(host):
        return
    if not allowed:
        raise ConfigError(
            f"{variable} must use https for {host or 'that host'} (plain http would send the API key "
            "unencrypted); set GRAFIENT_ALLOW_INSECURE_HTTP=1 to allow it anyway."
        )
    print(
        f"grafient: warning: GRAFIENT_ALLOW_INSECURE_HTTP=1: the API key will be sent unencrypted to {visible(host)}.",
        file=sys.stderr,
    )
