"""ConnectionSettings and URLs (issue 13, items 1 and 2).

The parsing tests need no server; the ones that connect use real servers
(``start_redis`` with ``--requirepass``, the shared server's unix socket).
The URL forms are aioredis 1.3.1's (its ``parse_url`` results and
rejections, see API.md 3.3) and redis-py's typed query names.
"""

import dataclasses
import logging
import ssl
import urllib.parse

import pytest
from conftest import free_port
from helpers import closing

import aioredis
from aioredis import ConnectionSettings, InvalidURLError
from aioredis.util import parse_url

# '@', '%', ':' and '/' in a password: each must survive one decoding pass
SECRET = "p@ss%40w:rd/x"
QUOTED = urllib.parse.quote(SECRET, safe="")


# ---------------------------------------------------------------------------
# aioredis.util.parse_url: 1.3.1's dicts
# ---------------------------------------------------------------------------

LOCAL = ("localhost", 6379)


@pytest.mark.parametrize(
    "url, address, options",
    [
        # host, port and db defaults
        ("redis://", LOCAL, {}),
        ("redis://localhost", LOCAL, {}),
        ("redis://example.org:7000", ("example.org", 7000), {}),
        ("redis://example.org:7000/", ("example.org", 7000), {}),
        ("redis://Example.ORG:0", ("example.org", 6379), {}),
        ("redis://127.0.0.1/0", ("127.0.0.1", 6379), {"db": 0}),
        ("redis://127.0.0.1/15", ("127.0.0.1", 6379), {"db": 15}),
        ("redis://[::1]:7001/2", ("::1", 7001), {"db": 2}),
        ("redis://h?db=3", ("h", 6379), {"db": 3}),
        ("redis://h/?db=3", ("h", 6379), {"db": 3}),
        # userinfo: the user is dropped, as 1.3.1 did
        ("redis://someone@h", ("h", 6379), {}),
        ("redis://:pw@h", ("h", 6379), {"password": "pw"}),
        ("redis://someone:pw@h:1/4", ("h", 1), {"password": "pw", "db": 4}),
        ("redis://h?password=pw", ("h", 6379), {"password": "pw"}),
        # the other 1.3.1 names
        ("redis://h?encoding=latin-1", ("h", 6379), {"encoding": "latin-1"}),
        ("redis://h?ssl=true", ("h", 6379), {"ssl": True}),
        ("redis://h?ssl=false", ("h", 6379), {"ssl": False}),
        ("redis://h?timeout=2.5", ("h", 6379), {"timeout": 2.5}),
        ("redis://h?timeout=3", ("h", 6379), {"timeout": 3.0}),
        # rediss: ssl=True added
        ("rediss://", LOCAL, {"ssl": True}),
        ("rediss://h:6380/1?encoding=utf-8", ("h", 6380), {"ssl": True, "db": 1, "encoding": "utf-8"}),
        ("rediss://u:pw@h", ("h", 6379), {"ssl": True, "password": "pw"}),
        ("rediss://h?ssl=true", ("h", 6379), {"ssl": True}),
        # unix sockets
        ("unix:///", "/", {}),
        ("unix:///run/redis.sock", "/run/redis.sock", {}),
        ("unix:///run/redis.sock?db=7&encoding=utf-8", "/run/redis.sock", {"db": 7, "encoding": "utf-8"}),
        ("unix:///run/redis.sock?password=pw", "/run/redis.sock", {"password": "pw"}),
        ("unix:///run/redis.sock?timeout=4", "/run/redis.sock", {"timeout": 4.0}),
        # no scheme: a path, returned as given (query and all)
        ("/run/redis.sock", "/run/redis.sock", {}),
        ("/run/redis.sock?db=1", "/run/redis.sock?db=1", {}),
        ("redis.sock", "redis.sock", {}),
    ],
)
def test_parse_url(url, address, options):
    assert parse_url(url) == (address, options)


@pytest.mark.parametrize(
    "url, args",
    [
        ("http://h/", ("Unsupported URI scheme", "http")),
        ("redis+unix:///tmp/x.sock", ("Unsupported URI scheme", "redis+unix")),
        ("redis://h/?db=1&db=1", ("Multiple parameters are not allowed", "db", "1")),
        ("redis://h/?encoding=utf-8&encoding=ascii", ("Multiple parameters are not allowed", "encoding", "ascii")),
        ("redis://h/?encoding=", ("Empty parameters are not allowed", "encoding", "")),
        ("redis://h/?whatever=", ("Empty parameters are not allowed", "whatever", "")),
        ("unix://", ("Empty path is not allowed", "unix://")),
        ("unix://localhost/x.sock", ("Netlocation is not allowed for unix scheme", "localhost")),
        ("unix://relative.sock", ("Empty path is not allowed", "unix://relative.sock")),  # 1.3.1 checks the path first
        ("redis:///007", ("Expected integer without leading zeroes", "007")),
        ("rediss://h/00", ("Expected integer without leading zeroes", "00")),
        ("redis://h?db=01", ("Expected integer without leading zeroes", "01")),
        ("redis://h/3?db=4", ("Single DB value expected, got path and query", 3, 4)),
        ("redis://h/0?db=0", ("Single DB value expected, got path and query", 0, 0)),
        ("redis:///?ssl=yes", ("Expected 'ssl' param to be 'true' or 'false' only", "yes")),
        ("redis:///?ssl=TRUE", ("Expected 'ssl' param to be 'true' or 'false' only", "TRUE")),
    ],
)
def test_parse_url_rejections(url, args):
    with pytest.raises(AssertionError) as info:  # what 1.3.1's callers catch
        parse_url(url)
    assert isinstance(info.value, InvalidURLError)
    assert isinstance(info.value, ValueError)
    assert info.value.args == (args,)
    assert str(args[0]) in str(info.value)


def test_parse_url_password_twice():
    with pytest.raises(InvalidURLError) as info:
        parse_url("redis://:one@h/?password=two")
    # 1.3.1's args: a plain string, no values (so no password)
    assert info.value.args == ("Single password value is expected, got in net location and query",)
    assert "one" not in str(info.value) and "two" not in str(info.value)


@pytest.mark.parametrize("url", ["redis://h/x", "redis://h/1/2", "redis://h/?db=x", "redis://h/?db=-1", "redis://h/?db=%C2%B3"])
def test_parse_url_bad_db(url):
    with pytest.raises(InvalidURLError, match="Invalid decimal integer"):
        parse_url(url)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://h/?password=one&password=two", "***"),
        ("unix://me:hunter2@/x.sock", "me:***@"),
    ],
)
def test_rejections_hide_the_password(url, shown):
    with pytest.raises(InvalidURLError) as info:
        parse_url(url)
    assert shown in info.value.args[0]
    for text in (str(info.value), repr(info.value), repr(info.value.args)):
        assert "two" not in text and "hunter2" not in text, text


def test_error_str_names_the_url_password_hidden():
    with pytest.raises(InvalidURLError) as info:
        parse_url("redis://:hunter2@h/?db=01")
    text = str(info.value)
    assert "Expected integer without leading zeroes" in text and "'01'" in text
    assert "redis://:***@h/" in text and "hunter2" not in text


# ---------------------------------------------------------------------------
# percent-decoding: exactly once
# ---------------------------------------------------------------------------


def test_userinfo_decoded_once():
    settings = ConnectionSettings.from_url(f"redis://:{QUOTED}@h")
    assert settings.password == SECRET
    # %2540 is "%40" encoded: one pass gives "%40", a second would give "@"
    assert ConnectionSettings.from_url("redis://:a%2540b@h").password == "a%40b"
    assert ConnectionSettings.from_url("redis://:a%40b@h").password == "a@b"
    assert parse_url("redis://:a%2540b@h")[1] == {"password": "a%40b"}


def test_query_decoded_once():
    assert ConnectionSettings.from_url(f"redis://h?password={QUOTED}").password == SECRET
    assert ConnectionSettings.from_url("redis://h?password=a+b%2Bc").password == "a b+c"
    assert ConnectionSettings.from_url("redis://:a+b@h").password == "a+b"  # userinfo: no form encoding
    assert ConnectionSettings.from_url("redis://h?password=a%2540b").password == "a%40b"


def test_user_and_unix_path_decoded_once():
    settings = ConnectionSettings.from_url("redis://de%3Afault:pw@h")
    assert settings.username == "de:fault"
    assert ConnectionSettings.from_url("unix:///tmp/a%20b%2541.sock").address == "/tmp/a b%41.sock"


# ---------------------------------------------------------------------------
# redis-py's typed query names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, options",
    [
        ("socket_timeout=0.5", {"command_timeout": 0.5}),
        ("command_timeout=2", {"command_timeout": 2.0}),
        ("socket_connect_timeout=1.5", {"connect_timeout": 1.5}),
        ("connect_timeout=1", {"connect_timeout": 1.0}),
        ("health_check_interval=30", {"health_check_interval": 30.0}),
        ("client_name=web", {"client_name": "web"}),
        ("protocol=3", {"protocol": 3}),
        ("ssl_cert_reqs=required", {"ssl_cert_reqs": ssl.CERT_REQUIRED}),
        ("ssl_cert_reqs=None", {"ssl_cert_reqs": ssl.CERT_NONE}),
        ("ssl_check_hostname=false", {"ssl_check_hostname": False}),
        ("ssl_check_hostname=No", {"ssl_check_hostname": False}),
        ("ssl_check_hostname=0", {"ssl_check_hostname": False}),
        ("ssl_check_hostname=yes", {"ssl_check_hostname": True}),
        ("ssl_check_hostname=TRUE", {"ssl_check_hostname": True}),
        ("ssl_ca_certs=/etc/ca.pem&ssl_certfile=c.pem&ssl_keyfile=k.pem",
         {"ssl_ca_certs": "/etc/ca.pem", "ssl_certfile": "c.pem", "ssl_keyfile": "k.pem"}),
    ],
)
def test_typed_query_names(query, options):
    assert parse_url(f"redis://h/?{query}") == (("h", 6379), options)


@pytest.mark.parametrize(
    "query, args",
    [
        ("ssl_check_hostname=f", ("Expected a boolean (true/false/yes/no/1/0)", "ssl_check_hostname", "f")),
        ("ssl_check_hostname=off", ("Expected a boolean (true/false/yes/no/1/0)", "ssl_check_hostname", "off")),
        ("socket_timeout=soon", ("Expected a number", "socket_timeout", "soon")),
        ("socket_timeout=nan", ("Expected a number", "socket_timeout", "nan")),
        ("protocol=three", ("Expected an integer", "protocol", "three")),
        ("ssl_cert_reqs=always", ("Expected none, optional or required", "ssl_cert_reqs", "always")),
        ("socket_timeout=1&command_timeout=2", ("Multiple parameters are not allowed", "command_timeout", "2")),
        ("max_connections=5", ("Unknown parameter", "max_connections")),
        ("dbb=1", ("Unknown parameter", "dbb")),
    ],
)
def test_typed_query_rejections(query, args):
    with pytest.raises(InvalidURLError) as info:
        parse_url(f"redis://h/?{query}")
    assert info.value.args == (args,)


# ---------------------------------------------------------------------------
# ConnectionSettings
# ---------------------------------------------------------------------------


def test_defaults():
    settings = ConnectionSettings()
    assert settings.address == ("localhost", 6379)
    assert (settings.db, settings.username, settings.password, settings.encoding, settings.ssl) == (0, None, None, None, None)


def test_from_url_keeps_user_and_tls():
    settings = ConnectionSettings.from_url("rediss://app:pw@cache.local:6380/2?encoding=utf-8")
    assert settings == ConnectionSettings(
        address=("cache.local", 6380), db=2, username="app", password="pw", encoding="utf-8", ssl=True
    )
    assert ConnectionSettings.from_url("valkeys://v").ssl is True
    assert ConnectionSettings.from_url("valkey://v:1").address == ("v", 1)
    assert ConnectionSettings.from_url("unix:///x.sock?db=2").address == "/x.sock"


def test_rediss_with_ssl_false_conflicts():
    with pytest.raises(InvalidURLError, match="Conflicting ssl options"):
        ConnectionSettings.from_url("rediss://h?ssl=false")


@pytest.mark.parametrize(
    "query, name",
    [
        ("timeout=1", "connect_timeout"),
        ("socket_timeout=1", "command_timeout"),
        ("client_name=web", "client_name"),
        ("protocol=3", "protocol"),
        ("ssl_certfile=c.pem", "ssl_certfile"),
    ],
)
def test_options_not_built_yet_are_refused(query, name):
    # parsed (and validated), then refused: never silently ignored
    with pytest.raises(NotImplementedError, match=f"{name}.* not supported yet"):
        ConnectionSettings.from_url(f"redis://:hunter2@h/?{query}")
    with pytest.raises(NotImplementedError) as info:
        ConnectionSettings.from_url(f"redis://:hunter2@h/?{query}")
    assert "hunter2" not in str(info.value)


def test_from_url_needs_a_scheme():
    with pytest.raises(InvalidURLError, match="no scheme"):
        ConnectionSettings.from_url("/tmp/redis.sock")


def test_keywords_win_over_the_url():
    url = "redis://:frompath@h/2?encoding=ascii"
    settings = ConnectionSettings.from_address(url, db=5, password="kw", encoding="utf-8")
    assert (settings.db, settings.password, settings.encoding) == (5, "kw", "utf-8")
    # None means "not given": the URL's value stays
    settings = ConnectionSettings.from_address(url, db=None, password=None, encoding=None)
    assert (settings.db, settings.password, settings.encoding) == (2, "frompath", "ascii")
    # db=0 given explicitly beats the URL's /2
    assert ConnectionSettings.from_address(url, db=0).db == 0
    # a settings object as the address: keywords win over it too
    base = ConnectionSettings(address=("h", 1), db=3)
    assert ConnectionSettings.from_address(base) is base
    assert ConnectionSettings.from_address(base, db=4) == base.replace(db=4)


def test_from_address_forms():
    assert ConnectionSettings.from_address(("h", 1)).address == ("h", 1)
    assert ConnectionSettings.from_address(["h", 1]).address == ("h", 1)
    assert ConnectionSettings.from_address("/tmp/r.sock").address == "/tmp/r.sock"
    assert ConnectionSettings.from_address("redis://h:2/1").address == ("h", 2)


@pytest.mark.parametrize("address", [42, None, b"/tmp/r.sock", {"host": "h"}], ids=repr)
def test_not_an_address_is_named(address):
    with pytest.raises(TypeError) as info:
        ConnectionSettings.from_address(address)
    assert repr(address) in str(info.value)


def test_wrong_pair_is_named():
    with pytest.raises(ValueError, match=r"\('h', 1, 2\)"):
        ConnectionSettings.from_address(("h", 1, 2))


@pytest.mark.parametrize("address", ["localhost:6379", "127.0.0.1:6379", "[::1]:6379"])
def test_host_port_string_is_named(address):
    # not a unix socket path that does not exist: an error naming it
    with pytest.raises(InvalidURLError) as info:
        ConnectionSettings.from_address(address)
    assert info.value.args[0][1] == address
    assert address in str(info.value) and "(host, port)" in str(info.value)


def test_repr_hides_the_password():
    for password in ("hunter2", b"hunter2"):
        settings = ConnectionSettings(address=("h", 1), username="app", password=password)
        for text in (repr(settings), str(settings), f"{settings}", repr([settings])):
            assert "hunter2" not in text, text
        assert "password='***'" in repr(settings)
        assert "username='app'" in repr(settings)
    assert "password=None" in repr(ConnectionSettings())


def test_immutable_and_replace():
    settings = ConnectionSettings(address=("h", 1), db=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.db = 2
    other = settings.replace(db=2, password="x")
    assert (settings.db, settings.password) == (1, None)
    assert (other.db, other.password, other.address) == (2, "x", ("h", 1))
    with pytest.raises(ValueError):
        settings.replace(db=-1)
    with pytest.raises(TypeError):
        settings.replace(db="1")
    with pytest.raises(TypeError):
        settings.replace(no_such_field=1)
    assert hash(settings) == hash(ConnectionSettings(address=("h", 1), db=1))


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"encoding": b"utf-8"}, TypeError),
        ({"password": 123}, TypeError),
        ({"username": 1}, TypeError),
        ({"ssl": "yes"}, TypeError),
        ({"db": True}, TypeError),
        ({"address": ""}, TypeError),
    ],
    ids=repr,
)
def test_validation(changes, error):
    with pytest.raises(error):
        ConnectionSettings(**changes)


# ---------------------------------------------------------------------------
# against real servers
# ---------------------------------------------------------------------------


def _client_info(info):
    return dict(field.split("=", 1) for field in info.split() if "=" in field)


async def test_url_with_password_and_db(start_redis):
    server = start_redis("--requirepass", SECRET)
    url = f"redis://:{QUOTED}@127.0.0.1:{server.port}/3"
    conn = await aioredis.create_connection(url)
    try:
        assert conn.address == ("127.0.0.1", server.port)
        assert conn.db == 3
        info = _client_info((await conn.execute("CLIENT", "INFO")).decode())
        assert info["db"] == "3"
    finally:
        await closing(conn)
    # the default user named in the URL is plain AUTH password
    conn = await aioredis.create_connection(f"redis://default:{QUOTED}@127.0.0.1:{server.port}")
    try:
        assert await conn.execute("PING") == b"PONG"
    finally:
        await closing(conn)


async def test_unix_url_with_db_and_password(start_redis):
    server = start_redis("--requirepass", SECRET)
    url = f"unix://{server.unix_path}?db=2&password={QUOTED}&encoding=utf-8"
    conn = await aioredis.create_connection(url)
    try:
        assert conn.address == server.unix_path
        assert (conn.db, conn.encoding) == (2, "utf-8")
        info = _client_info(await conn.execute("CLIENT", "INFO"))
        assert info["db"] == "2" and "U" in info["flags"]
    finally:
        await closing(conn)


async def test_every_factory_takes_a_url_and_keywords_win(start_redis):
    server = start_redis("--requirepass", SECRET)
    url = f"redis://:{QUOTED}@127.0.0.1:{server.port}/2"
    key = "aioredis-test:settings:k"

    redis = await aioredis.create_redis(url, db=4, encoding="utf-8")
    try:
        assert redis.db == 4
        await redis.set(key, "in-4")
        assert await redis.get(key) == "in-4"
    finally:
        await closing(redis)

    redis = await aioredis.create_redis_pool(url, minsize=1, maxsize=2)
    try:
        assert redis.db == 2 and redis.connection.settings.db == 2
        await redis.set(key, "in-2")
        # the pool's own pub/sub connection is made from the same settings
        (channel,) = await redis.subscribe("aioredis-test:settings:ch")
        assert await redis.publish("aioredis-test:settings:ch", "m") == 1
        assert await channel.get() == b"m"
        await redis.unsubscribe("aioredis-test:settings:ch")
    finally:
        await closing(redis)

    pool = await aioredis.create_pool(url, minsize=1, maxsize=1)
    try:
        assert pool.settings == ConnectionSettings.from_url(url)
        async with pool.get() as item:
            assert await item.get(key) == b"in-2"
        await pool.select(4)  # replaces the settings: new items come on db 4
        assert pool.settings.db == 4 and pool.settings.password == SECRET
        pool.clear()
        async with pool.get() as item:
            assert await item.get(key) == b"in-4"
    finally:
        await closing(pool)

    redis = await aioredis.create_reconnecting_redis(url, encoding="utf-8")
    try:
        assert await redis.get(key) == "in-2"
        await redis.select(4)
        conn = await redis.connection.get_atomic_connection()
        await closing(conn)  # the next command reconnects with the settings, on db 4
        assert await redis.get(key) == "in-4"
        assert redis.connection.settings.db == 4
    finally:
        await closing(redis)


async def test_settings_object_as_the_address(redis_server):
    settings = ConnectionSettings(address=redis_server.tcp_address, db=5, password=redis_server.password)
    redis = await aioredis.create_redis(settings)
    try:
        assert redis.db == 5 and await redis.ping() == b"PONG"
    finally:
        await closing(redis)


def _connections_received(server):
    info = server.command("INFO", "stats").decode()
    return int(info.split("total_connections_received:")[1].split()[0])


async def test_rediss_refused_before_connecting(start_redis):
    server = start_redis()
    before = _connections_received(server)
    # a plain server listens there: TLS must not silently become plain text
    for factory in (aioredis.create_connection, aioredis.create_redis, aioredis.create_redis_pool):
        with pytest.raises(NotImplementedError, match="TLS is not supported yet"):
            await factory(f"rediss://127.0.0.1:{server.port}")
    with pytest.raises(NotImplementedError, match="TLS"):
        await aioredis.create_pool(f"redis://127.0.0.1:{server.port}?ssl=true", minsize=1)
    redis = await aioredis.create_reconnecting_redis(f"rediss://127.0.0.1:{server.port}")
    with pytest.raises(NotImplementedError, match="TLS"):
        await redis.ping()
    redis.close()
    # the second INFO's own connection is the only one since the first
    assert _connections_received(server) == before + 1


async def test_acl_user_refused_before_connecting():
    with pytest.raises(NotImplementedError, match="ACL users are not supported yet"):
        await aioredis.create_connection(f"redis://app:pw@127.0.0.1:{free_port()}")


async def test_wrong_password_in_url_shown_nowhere(start_redis, caplog):
    server = start_redis("--requirepass", SECRET)
    wrong = "wr0ng-" + SECRET
    caplog.set_level(logging.DEBUG)
    url = f"redis://:{urllib.parse.quote(wrong, safe='')}@127.0.0.1:{server.port}"
    for factory in (aioredis.create_connection, aioredis.create_redis, aioredis.create_pool, aioredis.create_redis_pool):
        with pytest.raises(aioredis.AuthError) as info:
            await factory(url)
        texts = []
        exc = info.value
        while exc is not None:
            texts += [str(exc), repr(exc), repr(exc.args)]
            exc = exc.__cause__ or exc.__context__
        texts += [record.getMessage() for record in caplog.records]
        texts += [repr(record.args) for record in caplog.records]
        for text in texts:
            assert wrong not in text and SECRET not in text, text
    # a refused connect names the address, not the password
    with pytest.raises(OSError) as info:
        await aioredis.create_connection(f"redis://:{QUOTED}@127.0.0.1:{free_port()}")
    assert SECRET not in str(info.value) and QUOTED not in str(info.value)


async def test_redis_and_pool_reprs_hide_the_password(start_redis):
    server = start_redis("--requirepass", SECRET)
    url = f"redis://:{QUOTED}@127.0.0.1:{server.port}"
    redis = await aioredis.create_redis_pool(url, minsize=1)
    try:
        for obj in (redis, redis.connection, redis.connection.settings):
            assert SECRET not in repr(obj) and QUOTED not in repr(obj)
    finally:
        await closing(redis)


async def test_bad_address_fails_in_every_factory_at_once():
    # before anything connects; create_reconnecting_redis too (it connects lazily)
    for factory in (
        aioredis.create_connection,
        aioredis.create_redis,
        aioredis.create_pool,
        aioredis.create_redis_pool,
        aioredis.create_reconnecting_redis,
    ):
        with pytest.raises(InvalidURLError, match="Unsupported URI scheme"):
            await factory("http://127.0.0.1/")
        with pytest.raises(TypeError, match="42"):
            await factory(42)
