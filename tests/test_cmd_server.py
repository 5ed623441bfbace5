"""Server commands (ServerCommandsMixin) against real redis-servers.

Commands that stop, crash, flush or re-role a server run against throwaway
servers from ``start_redis``; the rest use the shared ``redis_server``.
"""

import asyncio
import os
import time
import uuid

import pytest
from helpers import Recorder, assert_still_in_sync, client, key_maker, recorded, sent

import aioredis
from aioredis import ConnectionClosedError, ConnectionForcedCloseError, ReplyError
from aioredis.commands.server import MasterInfo, MasterSlaveInfo, SentinelInfo, SlaveInfo


key = key_maker("aioredis-test:server")


def convert_with(call, reply):
    """Apply the converter ``call(redis)`` installs to a canned reply."""
    _, _, convert = recorded(call)
    return reply if convert is None else convert(reply)


async def wait_for(predicate_coro, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate_coro()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------
# persistence
# ---------------------------------------------------------------------------


async def test_save_bgsave_lastsave_bgrewriteaof(start_redis):
    server = start_redis()
    async with client(server) as redis:
        first = await redis.lastsave()
        assert isinstance(first, int)
        assert abs(first - time.time()) < 60
        await redis.execute(b"SET", "k", "v")
        assert await redis.save() == b"OK"
        assert os.path.exists(os.path.join(server.workdir, "dump.rdb"))
        assert await redis.lastsave() >= first

        async def idle():
            info = await redis.info("persistence")
            p = info["persistence"]
            return p["rdb_bgsave_in_progress"] == "0" and p["aof_rewrite_in_progress"] == "0"

        os.remove(os.path.join(server.workdir, "dump.rdb"))
        assert await redis.bgsave() is True
        await wait_for(idle, what="BGSAVE")
        assert os.path.exists(os.path.join(server.workdir, "dump.rdb"))
        assert (await redis.info("persistence"))["persistence"]["rdb_last_bgsave_status"] == "ok"

        assert await redis.bgrewriteaof() is True
        await wait_for(idle, what="BGREWRITEAOF")
        assert (await redis.info("persistence"))["persistence"]["aof_last_bgrewrite_status"] == "ok"
    async with client(server, encoding="utf-8") as redis:
        assert await redis.bgsave() is True
        await wait_for(idle, what="BGSAVE")
        assert await redis.save() == "OK"


def test_not_implemented():
    redis = aioredis.Redis(Recorder())
    for method in (redis.client_kill, redis.monitor, redis.client_reply):
        with pytest.raises(NotImplementedError):
            method()
    assert redis.connection.calls == []


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------


async def test_client_list(redis_server):
    name = "cl" + uuid.uuid4().hex
    async with client(redis_server) as redis, client(redis_server, encoding="latin-1") as other:
        assert await redis.client_setname(name) is True
        res = await redis.client_list()
        assert isinstance(res, list) and len(res) >= 2
        mine = [c for c in res if c.name == name]
        assert len(mine) == 1
        info = mine[0]._asdict()
        assert type(mine[0]).__name__ == "ClientInfo"
        assert all(isinstance(v, str) for v in info.values())
        assert info["cmd"] in ("client", "client|list")
        assert info["db"] == "0"
        assert info["flags"] == "N"
        assert info["multi"] == "-1"
        assert int(info["id"]) > 0
        assert info["addr"].startswith("127.0.0.1:")
        assert "qbuf_free" in info  # '-' in field names becomes '_'
        # decoded as utf-8 whatever the connection's encoding
        res = await other.client_list()
        assert name in [c.name for c in res]


async def test_client_list_unix_socket(redis_server, unix_path):
    kwargs = {"password": redis_server.password} if redis_server.password else {}
    redis = await aioredis.create_redis(unix_path, **kwargs)
    try:
        name = "unix" + uuid.uuid4().hex
        await redis.client_setname(name)
        (info,) = [c for c in await redis.client_list() if c.name == name]
        assert info.flags == "U"
        assert info.addr == f"{unix_path}:0"
    finally:
        redis.close()
        await redis.wait_closed()


async def test_client_getname_setname(redis_server):
    async with client(redis_server) as redis:
        assert await redis.client_getname() is None
        assert await redis.client_setname("TestClient") is True
        assert await redis.client_getname() == b"TestClient"
        assert await redis.client_getname(encoding="utf-8") == "TestClient"
        assert await redis.client_getname("utf-8") == "TestClient"
        with pytest.raises(ReplyError):
            await redis.client_setname("has spaces")
        with pytest.raises(TypeError):
            redis.client_setname(None)
        await assert_still_in_sync(redis)
        assert await redis.client_getname() == b"TestClient"
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.client_setname("Other") is True
        assert await redis.client_getname() == "Other"
        assert await redis.client_getname(encoding=None) == b"Other"


async def test_client_pause(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        with pytest.raises(TypeError):
            redis.client_pause(2.0)
        with pytest.raises(TypeError):
            redis.client_pause("100")
        with pytest.raises(ValueError):
            redis.client_pause(-1)
        await assert_still_in_sync(redis)
        assert await redis.client_pause(300) is True
        t0 = time.monotonic()
        assert await other.execute(b"SET", key(), "x") == b"OK"
        assert time.monotonic() - t0 >= 0.2


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


async def test_config_get(redis_server):
    async with client(redis_server) as redis:
        assert await redis.config_get("port") == {"port": str(redis_server.port)}
        res = await redis.config_get()
        assert len(res) > 50
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in res.items())
        assert res["port"] == str(redis_server.port)
        res = await redis.config_get("maxmemory*")
        assert "maxmemory" in res and "maxmemory-policy" in res
        assert all(k.startswith("maxmemory") for k in res)
        assert await redis.config_get("unknown_parameter") == {}
        with pytest.raises(TypeError):
            redis.config_get(b"port")
        with pytest.raises(TypeError):
            redis.config_get(None)
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="latin-1") as redis:
        assert await redis.config_get("port") == {"port": str(redis_server.port)}


async def test_config_set(redis_server):
    async with client(redis_server) as redis:
        before = (await redis.config_get("slowlog-max-len"))["slowlog-max-len"]
        try:
            assert await redis.config_set("slowlog-max-len", 77) is True
            assert await redis.config_get("slowlog-max-len") == {"slowlog-max-len": "77"}
            assert await redis.config_set("slowlog-max-len", "78") is True
            assert await redis.config_get("slowlog-max-len") == {"slowlog-max-len": "78"}
        finally:
            assert await redis.config_set("slowlog-max-len", before) is True
        with pytest.raises(ReplyError):
            await redis.config_set("databases", 100)  # immutable
        with pytest.raises(ReplyError):
            await redis.config_set("no-such-parameter", 1)
        with pytest.raises(TypeError):
            redis.config_set(100, "databases")
        with pytest.raises(TypeError):
            redis.config_set(b"slowlog-max-len", 1)
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.config_set("slowlog-max-len", before) is True


async def test_config_rewrite(redis_server):
    # the test servers run without a config file: the server refuses
    async with client(redis_server) as redis:
        with pytest.raises(ReplyError, match="config file"):
            await redis.config_rewrite()
        await assert_still_in_sync(redis)
    _, _, convert = recorded(lambda r: r.config_rewrite())
    assert convert(b"OK") is True and convert("OK") is True


async def test_config_resetstat(start_redis):
    server = start_redis()
    async with client(server) as redis:
        for _ in range(3):
            await redis.echo("x")
        stats = (await redis.info("commandstats"))["commandstats"]
        assert stats["cmdstat_echo"]["calls"] == "3"
        assert await redis.config_resetstat() is True
        stats = (await redis.info("commandstats"))["commandstats"]
        assert "cmdstat_echo" not in stats
    async with client(server, encoding="utf-8") as redis:
        assert await redis.config_resetstat() is True


# ---------------------------------------------------------------------------
# databases
# ---------------------------------------------------------------------------


async def test_dbsize_flushdb_flushall(start_redis):
    server = start_redis()
    async with client(server) as redis, client(server, db=1) as redis1:
        assert await redis.dbsize() == 0
        await redis.execute(b"MSET", "a", 1, "b", 2)
        await redis1.execute(b"MSET", "c", 3)
        assert await redis.dbsize() == 2
        assert await redis1.dbsize() == 1

        assert await redis.flushdb() is True
        assert await redis.dbsize() == 0
        assert await redis1.dbsize() == 1

        await redis.execute(b"SET", "a", 1)
        assert await redis.flushdb(async_op=True) is True
        assert await redis.dbsize() == 0
        assert await redis1.dbsize() == 1

        await redis.execute(b"SET", "a", 1)
        assert await redis.flushall() is True
        assert await redis.dbsize() == 0
        assert await redis1.dbsize() == 0

        await redis.execute(b"SET", "a", 1)
        await redis1.execute(b"SET", "c", 1)
        assert await redis1.flushall(True) is True
        assert await redis.dbsize() == 0
        assert await redis1.dbsize() == 0
    async with client(server, encoding="utf-8") as redis:
        assert await redis.flushdb() is True
        assert await redis.flushall() is True
    assert sent(lambda r: r.flushdb(async_op=True)) == (b"FLUSHDB", b"ASYNC")
    assert sent(lambda r: r.flushall(async_op=True)) == (b"FLUSHALL", b"ASYNC")
    assert sent(lambda r: r.flushall()) == (b"FLUSHALL",)


# ---------------------------------------------------------------------------
# DEBUG
# ---------------------------------------------------------------------------


async def test_debug_object_and_sleep(start_redis):
    server = start_redis("--enable-debug-command", "yes")
    async with client(server) as redis:
        await redis.execute(b"RPUSH", "list", "a", "b")
        res = await redis.debug_object("list")
        assert isinstance(res, bytes)
        assert res.startswith(b"Value at:")
        assert b"refcount:" in res and b"encoding:" in res
        with pytest.raises(ReplyError, match="no such key"):
            await redis.debug_object("missing")
        t0 = time.monotonic()
        assert await redis.debug_sleep(0.2) is True
        assert time.monotonic() - t0 >= 0.15
        assert await redis.debug_sleep(0) is True
    async with client(server, encoding="utf-8") as redis:
        res = await redis.debug_object("list")
        assert isinstance(res, str) and res.startswith("Value at:")
        assert await redis.debug_sleep(0) is True


async def test_debug_segfault(start_redis):
    server = start_redis("--enable-debug-command", "yes")
    async with client(server) as redis:
        fut = redis.debug_segfault("unused")
        with pytest.raises(ConnectionClosedError):
            await fut
    assert server.proc.wait(10) != 0
    assert sent(lambda r: r.debug_segfault("unused")) == (b"DEBUG", b"SEGFAULT")


# ---------------------------------------------------------------------------
# INFO, ROLE, TIME, COMMAND
# ---------------------------------------------------------------------------


async def test_info(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.execute(b"SET", k, "v")
        res = await redis.info()
        assert isinstance(res, dict)
        assert {"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                "keyspace"} <= set(res)
        assert res["server"]["tcp_port"] == str(redis_server.port)
        assert res["server"]["redis_version"].count(".") == 2
        assert res["replication"]["role"] == "master"
        db0 = res["keyspace"]["db0"]
        assert isinstance(db0, dict) and set(db0) >= {"keys", "expires"}
        assert int(db0["keys"]) >= 1

        res = await redis.info("all")
        assert {"server", "commandstats", "keyspace"} <= set(res)
        assert res["commandstats"]["cmdstat_set"]["calls"].isdigit()

        res = await redis.info("server")
        assert list(res) == ["server"]
        res = await redis.info(section="clients")
        assert list(res) == ["clients"]
        assert int(res["clients"]["connected_clients"]) >= 1

        assert await redis.info("no-such-section") == {}

        for bad in ("", None, b""):
            with pytest.raises(ValueError):
                redis.info(bad)
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="latin-1") as redis:
        assert list(await redis.info("server")) == ["server"]


def test_info_parsing():
    text = (
        "# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis-server\r\nconfig_file:\r\n\r\n"
        "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=10,expires=2,avg_ttl=5\r\n\r\n"
        "# Odd\r\nlist:a,b,c\r\nmixed:a=1,b\r\nmodule:name=x,ver=1,args=[a=b]\r\n"
    )
    assert convert_with(lambda r: r.info(), text) == {
        "server": {"redis_version": "7.0.15", "executable": "/usr/bin/redis-server", "config_file": ""},
        "keyspace": {
            "db0": {"keys": "1", "expires": "0", "avg_ttl": "0"},
            "db3": {"keys": "10", "expires": "2", "avg_ttl": "5"},
        },
        "odd": {"list": "a,b,c", "mixed": "a=1,b", "module": {"name": "x", "ver": "1", "args": "[a=b]"}},
    }
    assert convert_with(lambda r: r.info(), "") == {}
    assert convert_with(lambda r: r.info(), "# Keyspace\r\n") == {"keyspace": {}}
    assert convert_with(lambda r: r.info(), "QUEUED") == "QUEUED"
    command, encoding, _ = recorded(lambda r: r.info())
    assert command == (b"INFO", "default") and encoding == "utf-8"


async def test_role_master(redis_server):
    async with client(redis_server) as redis:
        res = await redis.role()
        assert isinstance(res, MasterInfo)
        assert res.role == "master"
        assert isinstance(res.replication_offset, int)
        assert isinstance(res.slaves, list)


async def test_slaveof_and_role(start_redis):
    master = start_redis("--repl-diskless-sync-delay", "0")
    replica = start_redis()
    async with client(master) as m, client(replica) as r:
        await m.execute(b"SET", "from-master", "1")
        assert await r.slaveof("127.0.0.1", master.port) == b"OK"

        async def synced():
            role = await r.role()
            return role if role.state == "connected" else None

        role = await wait_for(synced, what="replica connected")
        assert isinstance(role, SlaveInfo)
        assert role.role == "slave"
        assert role.master_ip == "127.0.0.1"
        assert role.master_port == master.port
        assert isinstance(role.received, int)
        assert await r.execute(b"GET", "from-master") == b"1"

        async def listed():
            role = await m.role()
            return role if role.slaves else None

        role = await wait_for(listed, what="replica listed by the master")
        assert isinstance(role, MasterInfo)
        (slave,) = role.slaves
        assert isinstance(slave, MasterSlaveInfo)
        assert slave.ip == "127.0.0.1"
        assert slave.port == replica.port
        assert isinstance(slave.ack_offset, int)

        # no host: SLAVEOF NO ONE
        assert await r.slaveof() == b"OK"
        assert (await r.role()).role == "master"
        assert await r.slaveof("127.0.0.1", master.port) == b"OK"
        assert (await r.role()).role == "slave"
        assert await r.slaveof(None) == b"OK"
        assert isinstance(await r.role(), MasterInfo)
        with pytest.raises(TypeError):
            r.slaveof("127.0.0.1")  # a port is needed
        await assert_still_in_sync(r)
    assert sent(lambda x: x.slaveof()) == (b"SLAVEOF", b"NO", b"ONE")
    assert sent(lambda x: x.slaveof("h", 1)) == (b"SLAVEOF", "h", 1)


def test_role_parsing():
    parse = lambda reply: convert_with(lambda r: r.role(), reply)  # noqa: E731
    assert parse(["master", 10, [["10.0.0.1", "6380", "7"]]]) == MasterInfo(
        "master", 10, [MasterSlaveInfo("10.0.0.1", 6380, 7)]
    )
    assert parse(["slave", "10.0.0.1", 6379, "connected", 42]) == SlaveInfo(
        "slave", "10.0.0.1", 6379, "connected", 42
    )
    res = parse(["sentinel", ["mymaster", "other"]])
    assert isinstance(res, SentinelInfo)
    assert res == SentinelInfo("sentinel", ["mymaster", "other"])
    assert parse(["unknown", 1]) == ["unknown", 1]
    assert parse("QUEUED") == "QUEUED"


async def test_time(redis_server):
    async with client(redis_server) as redis:
        res = await redis.time()
        assert isinstance(res, float)
        assert abs(res - time.time()) < 5
        seconds, micros = await redis.execute(b"TIME")
        res = await redis.time()
        assert res >= int(seconds) + int(micros) / 1e6
    async with client(redis_server, encoding="utf-8") as redis:
        assert abs(await redis.time() - time.time()) < 5
    to_time = lambda reply: convert_with(lambda r: r.time(), reply)  # noqa: E731
    # microseconds are not a decimal fraction: 5 us is .000005, not .5
    assert to_time([b"1700000000", b"5"]) == 1700000000.000005
    assert to_time(["1700000000", "999999"]) == 1700000000.999999
    assert to_time([b"12", b"500000"]) == 12.5


async def test_command(redis_server):
    async with client(redis_server) as redis:
        res = await redis.command()
        assert isinstance(res, list)
        names = {c[0] for c in res}
        assert {"get", "set", "zadd", "command"} <= names
        assert await redis.command_count() == len(res)
        info = {c[0]: c for c in res}
        assert info["get"][1] == 2  # arity


async def test_command_getkeys(redis_server):
    async with client(redis_server) as redis:
        assert await redis.command_getkeys("set", "a", "b") == ["a"]
        assert await redis.command_getkeys("mset", "a", 1, "b", 2) == ["a", "b"]
        assert await redis.command_getkeys(b"mget", "x", "y", encoding=None) == [b"x", b"y"]
        with pytest.raises(ReplyError):
            await redis.command_getkeys("get")  # wrong number of arguments
        await assert_still_in_sync(redis)


async def test_command_info(redis_server):
    async with client(redis_server) as redis:
        res = await redis.command_info("get", "set")
        assert [c[0] for c in res] == ["get", "set"]
        assert res[0][1] == 2 and res[1][1] == -3
        assert await redis.command_info("no-such-command") == [None]
        with pytest.raises(TypeError):
            redis.command_info(None)
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# slow log
# ---------------------------------------------------------------------------


async def test_slowlog(start_redis):
    server = start_redis("--slowlog-log-slower-than", "0")
    async with client(server) as redis:
        assert await redis.slowlog_reset() is True
        # each command is logged once it has run
        assert await redis.slowlog_len() == 1  # RESET
        await redis.execute(b"SET", "slow", "value")
        await redis.ping()
        assert await redis.slowlog_len() == 4  # RESET, LEN, SET, PING
        assert await redis.slowlog_len(100) == 5
        entries = await redis.slowlog_get()
        assert isinstance(entries, list) and len(entries) == 6
        newest_first = [e[3] for e in entries]
        assert newest_first == [
            [b"SLOWLOG", b"LEN"],  # the argument of slowlog_len() is not sent
            [b"SLOWLOG", b"LEN"],
            [b"PING"],
            [b"SET", b"slow", b"value"],
            [b"SLOWLOG", b"LEN"],
            [b"SLOWLOG", b"RESET"],
        ]
        entry_id, timestamp, micros = entries[0][:3]
        assert all(isinstance(x, int) for x in (entry_id, timestamp, micros))
        assert len(await redis.slowlog_get(2)) == 2
        with pytest.raises(TypeError):
            redis.slowlog_get("2")
        with pytest.raises(TypeError):
            redis.slowlog_get(2.0)
        await assert_still_in_sync(redis)
        assert await redis.slowlog_reset() is True
        assert len(await redis.slowlog_get()) == 1
    async with client(server, encoding="utf-8") as redis:
        assert await redis.slowlog_reset() is True
        entries = await redis.slowlog_get(1)
        assert entries[0][3] == ["SLOWLOG", "RESET"]


# ---------------------------------------------------------------------------
# SHUTDOWN and SYNC (throwaway servers)
# ---------------------------------------------------------------------------


async def test_shutdown_nosave(start_redis):
    server = start_redis()
    dump = os.path.join(server.workdir, "dump.rdb")
    async with client(server) as redis:
        await redis.execute(b"SET", "k", "v")
        with pytest.raises(ConnectionClosedError):
            await redis.shutdown(redis.SHUTDOWN_NOSAVE)
    assert server.proc.wait(10) == 0
    assert not os.path.exists(dump)


async def test_shutdown_save(start_redis):
    server = start_redis()  # started with --save "": plain SHUTDOWN would not save
    dump = os.path.join(server.workdir, "dump.rdb")
    async with client(server) as redis:
        await redis.execute(b"SET", "k", "v")
        with pytest.raises(ConnectionClosedError):
            await redis.shutdown(redis.SHUTDOWN_SAVE)
    assert server.proc.wait(10) == 0
    assert os.path.getsize(dump) > 0


async def test_shutdown_plain(start_redis):
    server = start_redis()
    dump = os.path.join(server.workdir, "dump.rdb")
    async with client(server) as redis:
        await redis.execute(b"SET", "k", "v")
        with pytest.raises(ConnectionClosedError):
            await redis.shutdown()
    assert server.proc.wait(10) == 0
    assert not os.path.exists(dump)
    assert sent(lambda r: r.shutdown()) == (b"SHUTDOWN",)
    # constants are compared by identity: an equal str is not SHUTDOWN_SAVE
    assert sent(lambda r: r.shutdown("".join(["SHUTDOWN_", "SAVE"]))) == (b"SHUTDOWN",)
    assert sent(lambda r: r.shutdown(aioredis.Redis.SHUTDOWN_SAVE)) == (b"SHUTDOWN", b"SAVE")
    assert sent(lambda r: r.shutdown(aioredis.Redis.SHUTDOWN_NOSAVE)) == (b"SHUTDOWN", b"NOSAVE")


async def test_sync(start_redis):
    server = start_redis()
    async with client(server) as watcher:
        redis = await aioredis.create_redis(server.tcp_address)
        await redis.client_setname("syncer")
        fut = redis.sync()

        async def is_replica():
            clients = {c.name: c for c in await watcher.client_list()}
            info = clients.get("syncer")
            return info is not None and "S" in info.flags and info.cmd == "sync"

        await wait_for(is_replica, what="SYNC client flagged as a replica")
        redis.close()
        await redis.wait_closed()
        with pytest.raises(ConnectionForcedCloseError):
            await fut


# ---------------------------------------------------------------------------
# converters inside MULTI
# ---------------------------------------------------------------------------


async def test_converters_pass_queued_through(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        assert await conn.execute(b"MULTI") == b"OK"
        queued = [
            redis.info("server"),
            redis.config_get("port"),
            redis.client_list(),
            redis.role(),
            redis.time(),
            redis.client_setname("in-multi"),
            redis.slowlog_len(),
        ]
        res = await asyncio.gather(*queued)
        assert [r in (b"QUEUED", "QUEUED") for r in res] == [True] * len(queued)
        replies = await conn.execute(b"EXEC")
        assert replies[1] == [b"port", str(redis_server.port).encode()]
        assert replies[5] == b"OK"
