"""ConnectionSettings: what is needed to open a connection, in one immutable
object, and the parser of redis:// URLs (docs/connecting.rst; the design is
in docs/internals.rst, "Connection settings").

The public factories build the object once (``from_address``) and hand it
down; nothing below them takes loose ``db=``/``password=`` keywords. It is
read when a connection is opened, never per command.
"""

import dataclasses
import math
import re
import ssl as _ssl
import urllib.parse

from .errors import InvalidURLError

__all__ = ["ConnectionSettings"]

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6379

#: TCP schemes and whether they mean TLS (valkey:// is the same protocol).
_TCP_SCHEMES = {"redis": False, "rediss": True, "valkey": False, "valkeys": True}
_UNIX_SCHEME = "unix"

_SHOWN_SECRET = "***"

#: "localhost:6379": no unix socket path looks like that
_HOST_PORT = re.compile(r"[^/@]*:[0-9]+\Z")


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class ConnectionSettings:
    """How to reach and set up a connection: address, db, credentials,
    encoding, TLS. Immutable; ``replace(**changes)`` returns a new one.

    Build it with ``ConnectionSettings(address=("host", 6379), db=1, ...)``,
    :meth:`from_url` or :meth:`from_address`; every factory
    (``create_connection``, ``create_redis``, ``create_pool``,
    ``create_redis_pool``, ``create_reconnecting_redis``) accepts one in
    place of an address. Its repr never shows the password.
    """

    #: ``(host, port)`` for TCP, or the path of a unix socket.
    address: tuple | str = (DEFAULT_HOST, DEFAULT_PORT)
    #: The database selected on connect (SELECT when not 0).
    db: int = 0
    #: The ACL user. Only ``None`` or ``"default"`` (plain ``AUTH password``)
    #: can be used for now: connecting with another one raises
    #: NotImplementedError.
    username: str | None = None
    #: Sent with AUTH on connect when not None.
    password: str | bytes | None = dataclasses.field(default=None, metadata={"secret": True})
    #: Codec that decodes replies, or None for bytes.
    encoding: str | None = None
    #: True for TLS (a ``rediss://`` URL). TLS is not supported yet:
    #: connecting with ``ssl`` set raises NotImplementedError rather than
    #: talking plain text.
    ssl: bool | None = None

    def __post_init__(self):
        address = self.address
        if isinstance(address, list):
            address = tuple(address)
            object.__setattr__(self, "address", address)
        if isinstance(address, tuple):
            if len(address) != 2:
                raise ValueError(f"address must be a (host, port) pair or a unix socket path, not {address!r}")
        elif not isinstance(address, str) or not address:
            raise TypeError(
                f"address must be a (host, port) pair, a unix socket path or a redis:// URL, not {address!r}"
            )
        _validate_db(self.db)
        _check_type("username", self.username, str)
        _check_type("password", self.password, (str, bytes))
        _check_type("encoding", self.encoding, str)
        if self.ssl is not None and type(self.ssl) is not bool:
            raise TypeError(f"ssl must be None, True or False (an SSLContext is not supported yet), not {type(self.ssl).__name__}")

    def __repr__(self):
        items = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.metadata.get("secret") and value is not None:
                items.append(f"{field.name}={_SHOWN_SECRET!r}")
            else:
                items.append(f"{field.name}={value!r}")
        return f"{type(self).__name__}({', '.join(items)})"

    def replace(self, **changes):
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_url(cls, url, **keywords):
        """Settings from a ``redis://``, ``rediss://`` or ``unix://`` URL;
        ``keywords`` that are not None win over what the URL says.

        Raises :class:`~aioredis.errors.InvalidURLError` for a URL that
        cannot be used, NotImplementedError for a parameter whose feature is
        not built yet (timeouts, client_name, protocol, the TLS files).
        """
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        if not _scheme_of(url):
            raise InvalidURLError(("Not a URL (no scheme)", _redact_url(url)))
        address, options = _parse_url(url)
        if "timeout" in options:  # 1.3.1's name of the connect timeout
            if "connect_timeout" in options:
                raise InvalidURLError(("Multiple parameters are not allowed", "connect_timeout"), url=_redact_url(url))
            options["connect_timeout"] = options.pop("timeout")
        names = {field.name for field in dataclasses.fields(cls)}
        unsupported = sorted(set(options) - names)
        if unsupported:
            raise NotImplementedError(
                f"URL parameter(s) {', '.join(unsupported)} not supported yet (in {_redact_url(url)!r})"
            )
        return cls(address=address, **options)._with(keywords)

    @classmethod
    def from_address(cls, address, **keywords):
        """Settings from what a factory was given: a ``(host, port)`` pair,
        a unix socket path, a URL (a str with a scheme) or a
        ConnectionSettings; ``keywords`` that are not None win."""
        if isinstance(address, cls):
            return address._with(keywords)
        if isinstance(address, str) and _HOST_PORT.match(address):
            raise InvalidURLError(
                ("Not an address: for TCP pass a (host, port) pair or redis://host:port", address)
            )
        if isinstance(address, str) and _scheme_of(address):
            return cls.from_url(address, **keywords)
        if not isinstance(address, (str, tuple, list)):
            raise TypeError(
                f"address must be a (host, port) pair, a unix socket path, a redis:// URL "
                f"or ConnectionSettings, not {type(address).__name__} {address!r}"
            )
        return cls(address=address)._with(keywords)

    def _with(self, keywords):
        changes = {name: value for name, value in keywords.items() if value is not None}
        return self.replace(**changes) if changes else self


def _validate_db(db):
    if type(db) is not int:
        raise TypeError(f"db argument must be int, not {type(db).__name__}")
    if db < 0:
        raise ValueError(f"db argument must be not less than 0, got {db}")


def _check_type(name, value, types):
    if value is not None and not isinstance(value, types):
        raise TypeError(f"{name} must be {_type_names(types)} or None, not {type(value).__name__}")


def _type_names(types):
    if isinstance(types, type):
        return types.__name__
    return " or ".join(t.__name__ for t in types)


# -- URLs ---------------------------------------------------------------------


def _scheme_of(text):
    # urlsplit's rule: a str without one ("/tmp/redis.sock") is a path
    try:
        return urllib.parse.urlsplit(text).scheme
    except ValueError:
        return "?" if "://" in text else ""


def _db_number(value):
    # 1.3.1's rules: decimal digits, no leading zeros
    if not (value.isascii() and value.isdigit()):
        raise InvalidURLError(("Invalid decimal integer", value))
    if value != "0" and value.startswith("0"):
        raise InvalidURLError(("Expected integer without leading zeroes", value))
    return int(value)


def _integer(value, name):
    if not (value.isascii() and value.isdigit()):
        raise InvalidURLError(("Expected an integer", name, value))
    return int(value)


def _number(value, name):
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidURLError(("Expected a number", name, value))
    return number


_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def _boolean(value, name):
    # strict: "false" must never be a truthy str
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidURLError(("Expected a boolean (true/false/yes/no/1/0)", name, value))


def _ssl_flag(value, name):
    if value not in ("true", "false"):  # 1.3.1 accepted these two only
        raise InvalidURLError(("Expected 'ssl' param to be 'true' or 'false' only", value))
    return value == "true"


_CERT_REQS = {"none": _ssl.CERT_NONE, "optional": _ssl.CERT_OPTIONAL, "required": _ssl.CERT_REQUIRED}


def _cert_reqs(value, name):
    try:
        return _CERT_REQS[value.lower()]
    except KeyError:
        raise InvalidURLError(("Expected none, optional or required", name, value)) from None


def _text(value, name):
    return value


#: Query name -> (option it sets, parser). 1.3.1's names (and db, parsed
#: with the path's db in _parse), then redis-py's (socket_* are its names of
#: the timeouts). An option that is not a ConnectionSettings field yet is
#: refused by from_url().
_QUERY = {
    "password": ("password", _text),
    "encoding": ("encoding", _text),
    "ssl": ("ssl", _ssl_flag),
    "timeout": ("timeout", _number),
    "connect_timeout": ("connect_timeout", _number),
    "socket_connect_timeout": ("connect_timeout", _number),
    "command_timeout": ("command_timeout", _number),
    "socket_timeout": ("command_timeout", _number),
    "health_check_interval": ("health_check_interval", _number),
    "client_name": ("client_name", _text),
    "protocol": ("protocol", _integer),
    "ssl_cert_reqs": ("ssl_cert_reqs", _cert_reqs),
    "ssl_check_hostname": ("ssl_check_hostname", _boolean),
    "ssl_ca_certs": ("ssl_ca_certs", _text),
    "ssl_certfile": ("ssl_certfile", _text),
    "ssl_keyfile": ("ssl_keyfile", _text),
}


def _parse_url(url):
    """``(address, options)`` of a URL; options are keyword names (db,
    username, password, ..., ``timeout`` as 1.3.1 named it). A str
    without a scheme is a unix socket path, returned as it is."""
    try:
        return _parse(url)
    except InvalidURLError as exc:
        if exc.url is None:
            exc.url = _redact_url(url)
        raise


def _parse(url):
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise InvalidURLError(("Invalid URL", str(exc))) from None
    scheme = parts.scheme
    if scheme == "":
        return url, {}
    if scheme not in _TCP_SCHEMES and scheme != _UNIX_SCHEME:
        raise InvalidURLError(("Unsupported URI scheme", scheme))

    # parse_qsl percent-decodes the query: its values are not decoded again
    query = {}
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if name in query:
            shown = _SHOWN_SECRET if name == "password" else value
            raise InvalidURLError(("Multiple parameters are not allowed", name, shown))
        if not value:
            raise InvalidURLError(("Empty parameters are not allowed", name, value))
        query[name] = value

    if scheme == _UNIX_SCHEME:
        if not parts.path:
            raise InvalidURLError(("Empty path is not allowed", _redact_url(url)))
        if parts.netloc:
            raise InvalidURLError(("Netlocation is not allowed for unix scheme", _redact_netloc(parts.netloc)))
        address = urllib.parse.unquote(parts.path)
        db_in_path = ""
        username = password = None
    else:
        try:
            port = parts.port
        except ValueError:
            raise InvalidURLError(("Invalid port", _redact_netloc(parts.netloc))) from None
        host = urllib.parse.unquote(parts.hostname) if parts.hostname else DEFAULT_HOST
        address = (host, port or DEFAULT_PORT)  # 1.3.1: no port (or 0) is 6379
        db_in_path = parts.path[1:] if parts.path.startswith("/") else parts.path
        # urlsplit leaves userinfo quoted: decoded here, once
        username = urllib.parse.unquote(parts.username) if parts.username else None
        password = urllib.parse.unquote(parts.password) if parts.password else None

    options = {}
    db_path = _db_number(db_in_path) if db_in_path else None
    db_query = _db_number(query.pop("db")) if "db" in query else None
    if db_path is not None and db_query is not None:
        raise InvalidURLError(("Single DB value expected, got path and query", db_path, db_query))
    if db_path is not None or db_query is not None:
        options["db"] = db_path if db_path is not None else db_query
    if password and "password" in query:
        raise InvalidURLError("Single password value is expected, got in net location and query")
    if username:
        options["username"] = username
    if password:
        options["password"] = password

    for name, value in query.items():
        try:
            option, parse = _QUERY[name]
        except KeyError:
            raise InvalidURLError(("Unknown parameter", name)) from None
        if option in options:
            raise InvalidURLError(("Multiple parameters are not allowed", name, value))
        options[option] = parse(value, name)

    if _TCP_SCHEMES.get(scheme):
        if options.get("ssl") is False:
            raise InvalidURLError(("Conflicting ssl options", scheme, "ssl=false"))
        options["ssl"] = True
    return address, options


def _redact_netloc(netloc):
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return netloc
    user, colon, _password = userinfo.partition(":")
    return f"{user}{colon}{_SHOWN_SECRET if colon else ''}@{hostport}"


def _redact_url(url):
    """``url`` with the password (userinfo or query) shown as ***."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if "@" not in parts.netloc and not any(name == "password" for name, _ in pairs):
        return url  # nothing to hide: shown as it was given
    query = "&".join(
        f"{name}={_SHOWN_SECRET if name == 'password' else urllib.parse.quote(value, safe='')}"
        for name, value in pairs
    )
    return urllib.parse.urlunsplit(parts._replace(netloc=_redact_netloc(parts.netloc), query=query))
