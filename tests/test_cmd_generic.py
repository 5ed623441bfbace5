"""GenericCommandsMixin against a real redis-server (see conftest.py)."""

import asyncio
import time

import pytest
from helpers import client, key_maker, nothing_sent

from aioredis import ReplyError

key = key_maker("aioredis-test:generic")


# ---------------------------------------------------------------------------
# plain functions returning the connection's future
# ---------------------------------------------------------------------------


async def test_methods_return_futures_not_coroutines(redis_server):
    k = key()
    async with client(redis_server) as r:
        futs = [r.exists(k), r.expire(k, 10), r.scan(0, match=k), r.delete(k), r.rename(k, k + "x")]
        assert all(asyncio.isfuture(f) for f in futs)
        res = await asyncio.gather(*futs, return_exceptions=True)
        assert res[:4] == [0, False, (0, []), 0]
        assert isinstance(res[4], ReplyError)


# ---------------------------------------------------------------------------
# delete / exists / touch / unlink
# ---------------------------------------------------------------------------


async def test_delete(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        await r.mset(k1, 1, k2, 2)
        assert await r.delete(k3) == 0
        assert await r.delete(k1, k2, k3) == 2
        assert await r.exists(k1, k2) == 0
        async with nothing_sent(r, redis_server, "del"):
            with pytest.raises(TypeError):
                r.delete(None)
            with pytest.raises(TypeError):
                r.delete(k1, None)
            with pytest.raises(TypeError):
                r.delete()


async def test_exists_returns_int_count(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        res = await r.exists(k1)
        assert res == 0 and type(res) is int
        await r.set(k1, "v")
        res = await r.exists(k1)
        assert res == 1 and type(res) is int
        await r.set(k2, "v")
        assert await r.exists(k1, k2, k3) == 2
        assert await r.exists(k1, k1) == 2  # the server counts repeats
        with pytest.raises(TypeError):
            r.exists(None)
        await r.delete(k1, k2)


async def test_touch(redis_server):
    k1, k2 = key("1"), key("2")
    async with client(redis_server) as r:
        assert await r.touch(k1) == 0
        await r.set(k1, "v")
        assert await r.touch(k1, k2) == 1
        await r.set(k2, "v")
        assert await r.touch(k1, k2) == 2
        await r.delete(k1, k2)


async def test_unlink(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        await r.mset(k1, 1, k2, 2)
        assert await r.unlink(k3) == 0
        assert await r.unlink(k1, k2, k3) == 2
        assert await r.exists(k1, k2) == 0


# ---------------------------------------------------------------------------
# dump / restore
# ---------------------------------------------------------------------------


async def test_dump_restore(redis_server):
    k, k2 = key("src"), key("dst")
    async with client(redis_server) as r:
        assert await r.dump(k) is None
        await r.set(k, b"\x00\xffbinary")
        payload = await r.dump(k)
        assert isinstance(payload, bytes) and payload
        assert await r.restore(k2, 0, payload) == b"OK"
        assert await r.get(k2) == b"\x00\xffbinary"
        assert await r.ttl(k2) == -1
        with pytest.raises(ReplyError, match="BUSYKEY"):
            await r.restore(k2, 0, payload)
        # a ttl in milliseconds
        await r.delete(k2)
        assert await r.restore(k2, 5000, payload) == b"OK"
        assert 0 < await r.pttl(k2) <= 5000
        await r.delete(k, k2)


async def test_dump_is_bytes_under_connection_encoding(redis_server):
    k, k2 = key("src"), key("dst")
    async with client(redis_server, encoding="utf-8") as r:
        await r.set(k, "text")
        payload = await r.dump(k)  # binary: never decoded (it is not valid utf-8)
        assert isinstance(payload, bytes)
        assert await r.restore(k2, 0, payload) == "OK"
        assert await r.get(k2) == "text"
        await r.delete(k, k2)


# ---------------------------------------------------------------------------
# expiry: expire / expireat / pexpire / pexpireat / persist / ttl / pttl
# ---------------------------------------------------------------------------


async def test_expire(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.expire(k, 10) is False  # missing key
        await r.set(k, "v")
        assert await r.expire(k, 10) is True
        assert 0 < await r.ttl(k) <= 10
        assert 9000 < await r.pttl(k) <= 10000
        # a float becomes PEXPIRE in milliseconds
        async with nothing_sent(r, redis_server, "expire"):
            assert await r.expire(k, 1.5) is True
        assert 1000 < await r.pttl(k) <= 1500
        async with nothing_sent(r, redis_server, "expire", "pexpire"):
            for bad in ("10", b"10", None, [1]):
                with pytest.raises(TypeError):
                    r.expire(k, bad)
        assert 1000 < await r.pttl(k) <= 1500
        # a non-positive timeout deletes the key
        assert await r.expire(k, 0) is True
        assert await r.exists(k) == 0


async def test_expireat(redis_server):
    k = key()
    async with client(redis_server) as r:
        now = int(time.time())
        assert await r.expireat(k, now + 100) is False
        await r.set(k, "v")
        assert await r.expireat(k, now + 100) is True
        assert 90 < await r.ttl(k) <= 100
        # a float becomes PEXPIREAT in milliseconds
        async with nothing_sent(r, redis_server, "expireat"):
            assert await r.expireat(k, time.time() + 2.5) is True
        assert 2000 < await r.pttl(k) <= 2500
        async with nothing_sent(r, redis_server, "expireat", "pexpireat"):
            with pytest.raises(TypeError):
                r.expireat(k, str(now + 100))
            with pytest.raises(TypeError):
                r.expireat(k, None)
        assert await r.expireat(k, now - 10) is True  # in the past: deleted
        assert await r.exists(k) == 0


async def test_pexpire(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.pexpire(k, 5000) is False
        await r.set(k, "v")
        assert await r.pexpire(k, 5000) is True
        assert 4000 < await r.pttl(k) <= 5000
        assert await r.ttl(k) in (4, 5)
        async with nothing_sent(r, redis_server, "pexpire"):
            for bad in (1.5, "100", None):
                with pytest.raises(TypeError):
                    r.pexpire(k, bad)
        await r.delete(k)


async def test_pexpireat(redis_server):
    k = key()
    async with client(redis_server) as r:
        ms = int(time.time() * 1000) + 3000
        assert await r.pexpireat(k, ms) is False
        await r.set(k, "v")
        assert await r.pexpireat(k, ms) is True
        assert 2000 < await r.pttl(k) <= 3000
        async with nothing_sent(r, redis_server, "pexpireat"):
            for bad in (float(ms), str(ms), None):
                with pytest.raises(TypeError):
                    r.pexpireat(k, bad)
        await r.delete(k)


async def test_persist(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.persist(k) is False
        await r.set(k, "v")
        assert await r.persist(k) is False  # no expiry to remove
        await r.expire(k, 100)
        assert await r.persist(k) is True
        assert await r.ttl(k) == -1
        await r.delete(k)


async def test_ttl_pttl(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.ttl(k) == -2
        assert await r.pttl(k) == -2
        await r.set(k, "v")
        assert await r.ttl(k) == -1
        assert await r.pttl(k) == -1
        await r.pexpire(k, 20000)
        assert 19 <= await r.ttl(k) <= 20
        assert 19000 < await r.pttl(k) <= 20000
        await r.delete(k)


# ---------------------------------------------------------------------------
# keys / randomkey / scan
# ---------------------------------------------------------------------------


async def test_keys(redis_server):
    prefix = key("keys")
    names = [f"{prefix}:{i}" for i in range(3)]
    async with client(redis_server) as r:
        assert await r.keys(prefix + ":*") == []
        await r.mset(*[x for n in names for x in (n, "v")])
        assert sorted(await r.keys(prefix + ":*")) == [n.encode() for n in names]
        assert await r.keys(prefix + ":1") == [names[1].encode()]
        assert sorted(await r.keys(prefix + ":*", encoding="utf-8")) == names
        await r.delete(*names)
    async with client(redis_server, encoding="utf-8") as r:
        await r.mset(*[x for n in names for x in (n, "v")])
        assert sorted(await r.keys(prefix + ":*")) == names
        assert sorted(await r.keys(prefix + ":*", encoding=None)) == [n.encode() for n in names]
        await r.delete(*names)


async def test_randomkey(redis_server, flush):
    k = key()
    async with client(redis_server) as r:
        assert await r.randomkey() is None
        await r.set(k, "v")
        assert await r.randomkey() == k.encode()
        assert await r.randomkey(encoding="utf-8") == k
        await r.delete(k)
    async with client(redis_server, encoding="utf-8") as r:
        await r.set(k, "v")
        assert await r.randomkey() == k
        assert await r.randomkey(encoding=None) == k.encode()
        await r.delete(k)


async def test_scan(redis_server):
    prefix = key("scan")
    names = {f"{prefix}:{i}" for i in range(30)}
    async with client(redis_server) as r:
        await r.mset(*[x for n in sorted(names) for x in (n, "v")])
        found, cursor, rounds = [], 0, 0
        while True:
            result = await r.scan(cursor, match=prefix + ":*", count=10)
            assert isinstance(result, tuple) and len(result) == 2
            cursor, batch = result
            assert type(cursor) is int
            assert isinstance(batch, list)
            found.extend(batch)
            rounds += 1
            if cursor == 0:
                break
        assert rounds > 1
        assert {b.decode() for b in found} == names
        # default cursor and no options: the first page of the whole keyspace
        cursor, batch = await r.scan()
        assert type(cursor) is int and isinstance(batch, list)
        # MATCH alone: nothing else matches this pattern
        collected, cursor = set(), 0
        while True:
            cursor, batch = await r.scan(cursor, match=prefix + ":1*")
            collected.update(batch)
            if cursor == 0:
                break
        assert collected == {n.encode() for n in names if n.startswith(prefix + ":1")}
        with pytest.raises(TypeError):
            r.scan(None)
        await r.delete(*names)


async def test_scan_under_connection_encoding(redis_server):
    prefix = key("scanenc")
    async with client(redis_server, encoding="utf-8") as r:
        await r.set(prefix + ":a", "v")
        collected, cursor = [], 0
        while True:
            cursor, batch = await r.scan(cursor, match=prefix + ":*")
            assert type(cursor) is int
            collected.extend(batch)
            if cursor == 0:
                break
        assert collected == [prefix + ":a"]
        await r.delete(prefix + ":a")


# ---------------------------------------------------------------------------
# migrate / migrate_keys
# ---------------------------------------------------------------------------


def _local_only(redis_server):
    if redis_server.host not in ("127.0.0.1", "localhost"):
        pytest.skip("MIGRATE target is a local server; $REDIS_URL points elsewhere")


async def test_migrate(redis_server, start_redis):
    _local_only(redis_server)
    dest = start_redis(unix_socket=False)
    k = key()
    async with client(redis_server) as r:
        await r.set(k, "payload")
        assert await r.migrate("127.0.0.1", dest.port, k, 2, 1000) is True
        assert await r.exists(k) == 0
        assert dest.command("SELECT", 2) == b"OK"
        async with client(dest, db=2) as d:
            assert await d.get(k) == b"payload"
            # the key exists at the destination: an error without REPLACE
            await r.set(k, "second")
            with pytest.raises(ReplyError, match="BUSYKEY"):
                await r.migrate("127.0.0.1", dest.port, k, 2, 1000)
            # COPY keeps the source; REPLACE overwrites (positional, as in 0.1)
            assert await r.migrate("127.0.0.1", dest.port, k, 2, 1000, True, True) is True
            assert await r.get(k) == b"second"
            assert await d.get(k) == b"second"
            # keyword forms
            await r.set(k, "third")
            assert await r.migrate("127.0.0.1", dest.port, k, 2, 1000, copy=True, replace=True) is True
            assert await r.get(k) == b"third"
            assert await d.get(k) == b"third"
            assert await r.migrate("127.0.0.1", dest.port, k, 2, 1000, replace=True) is True
            assert await r.exists(k) == 0
            # a missing key: NOKEY, not OK
            assert await r.migrate("127.0.0.1", dest.port, k, 2, 1000) is False


async def test_migrate_validation(redis_server):
    k = key()
    port = redis_server.port
    async with client(redis_server) as r:
        async with nothing_sent(r, redis_server, "migrate"):
            with pytest.raises(TypeError):
                r.migrate(b"127.0.0.1", port, k, 0, 100)
            with pytest.raises(TypeError):
                r.migrate(None, port, k, 0, 100)
            with pytest.raises(TypeError):
                r.migrate("127.0.0.1", port, k, 0, 1.5)
            with pytest.raises(TypeError):
                r.migrate("127.0.0.1", port, k, "0", 100)
            with pytest.raises(ValueError):
                r.migrate("", port, k, 0, 100)
            with pytest.raises(ValueError):
                r.migrate("127.0.0.1", port, k, -1, 100)
            with pytest.raises(ValueError):
                r.migrate("127.0.0.1", port, k, 0, -1)
            # the type checks come first (documented order)
            with pytest.raises(TypeError):
                r.migrate("", port, k, 0, "100")
            with pytest.raises(TypeError):
                r.migrate("127.0.0.1", port, k, -1, "100")
            with pytest.raises(TypeError):
                r.migrate("", port, k, "0", 100)
            with pytest.raises(TypeError):
                r.migrate("127.0.0.1", port, None, 0, 100)


async def test_migrate_keys(redis_server, start_redis):
    _local_only(redis_server)
    dest = start_redis(unix_socket=False)
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r, client(dest) as d:
        await r.mset(k1, "one", k2, "two")
        assert await r.migrate_keys("127.0.0.1", dest.port, [k1, k2], 0, 1000) is True
        assert await r.exists(k1, k2) == 0
        assert await d.mget(k1, k2) == [b"one", b"two"]
        await r.mset(k1, "uno", k3, "tres")
        with pytest.raises(ReplyError, match="BUSYKEY"):
            await r.migrate_keys("127.0.0.1", dest.port, (k1, k3), 0, 1000)
        await r.set(k3, "tres")  # the server may have moved k3 before failing on k1
        res = await r.migrate_keys("127.0.0.1", dest.port, (k1, k3), 0, 1000, copy=True, replace=True)
        assert res is True
        assert await r.mget(k1, k3) == [b"uno", b"tres"]
        assert await d.mget(k1, k2, k3) == [b"uno", b"two", b"tres"]
        await r.delete(k1, k3)
        # none of the keys exist: NOKEY
        assert await r.migrate_keys("127.0.0.1", dest.port, [k1, k3], 0, 1000) is False
        async with nothing_sent(r, redis_server, "migrate"):
            with pytest.raises(TypeError):
                r.migrate_keys("127.0.0.1", dest.port, k1, 0, 1000)
            with pytest.raises(TypeError):
                r.migrate_keys("127.0.0.1", dest.port, {k1}, 0, 1000)
            with pytest.raises(ValueError):
                r.migrate_keys("127.0.0.1", dest.port, [], 0, 1000)
            with pytest.raises(ValueError):
                r.migrate_keys("127.0.0.1", dest.port, (), 0, 1000)
            with pytest.raises(TypeError):
                r.migrate_keys(1, dest.port, [k1], 0, 1000)
            with pytest.raises(TypeError):
                r.migrate_keys("127.0.0.1", dest.port, [k1], 0, None)
            with pytest.raises(TypeError):
                r.migrate_keys("127.0.0.1", dest.port, [k1], 0.0, 1000)
            with pytest.raises(ValueError):
                r.migrate_keys("", dest.port, [k1], 0, 1000)
            with pytest.raises(ValueError):
                r.migrate_keys("127.0.0.1", dest.port, [k1], -1, 1000)
            with pytest.raises(ValueError):
                r.migrate_keys("127.0.0.1", dest.port, [k1], 0, -1)
            with pytest.raises(TypeError):  # copy/replace are keyword-only
                r.migrate_keys("127.0.0.1", dest.port, [k1], 0, 1000, True)


# ---------------------------------------------------------------------------
# move
# ---------------------------------------------------------------------------


async def test_move(redis_server):
    k = key()
    async with client(redis_server) as r, client(redis_server, db=1) as r1:
        assert await r.move(k, 1) is False  # missing
        await r.set(k, "v")
        assert await r.move(k, 1) is True
        assert await r.exists(k) == 0
        assert await r1.get(k) == b"v"
        await r.set(k, "other")
        assert await r.move(k, 1) is False  # exists in the target db
        assert await r.get(k) == b"other"
        async with nothing_sent(r, redis_server, "move"):
            for bad in ("1", 1.0, None):
                with pytest.raises(TypeError):
                    r.move(k, bad)
            with pytest.raises(ValueError):
                r.move(k, -1)
        with pytest.raises(ReplyError):
            await r.move(k, 100000)
        await r.delete(k)
        await r1.delete(k)


# ---------------------------------------------------------------------------
# object_*
# ---------------------------------------------------------------------------


async def test_object_refcount(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.object_refcount(k) is None
        await r.set(k, "some text")
        res = await r.object_refcount(k)
        assert type(res) is int and res >= 1
        await r.delete(k)


async def test_object_encoding(redis_server):
    k1, k2, k3 = key("int"), key("str"), key("list")
    async with client(redis_server) as r:
        assert await r.object_encoding(k1) is None
        await r.set(k1, 12345)
        await r.set(k2, "short")
        await r.execute(b"RPUSH", k3, "a")
        res = await r.object_encoding(k1)
        assert res == "int" and type(res) is str
        assert await r.object_encoding(k2) == "embstr"
        assert await r.object_encoding(k3) in ("listpack", "quicklist", "ziplist")
        await r.set(k2, "x" * 100)
        assert await r.object_encoding(k2) == "raw"
        await r.delete(k1, k2, k3)
    async with client(redis_server, encoding="latin-1") as r:
        await r.set(k1, 1)
        assert await r.object_encoding(k1) == "int"
        await r.delete(k1)


async def test_object_idletime(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.object_idletime(k) is None
        await r.set(k, "v")
        res = await r.object_idletime(k)
        assert type(res) is int and 0 <= res <= 1
        await r.delete(k)


# ---------------------------------------------------------------------------
# rename / renamenx
# ---------------------------------------------------------------------------


async def test_rename(redis_server):
    k, k2 = key("a"), key("b")
    async with client(redis_server) as r:
        await r.set(k, "v")
        assert await r.rename(k, k2) is True
        assert await r.exists(k) == 0
        assert await r.get(k2) == b"v"
        with pytest.raises(ReplyError):
            await r.rename(k, k2)  # no such key
        async with nothing_sent(r, redis_server, "rename"):
            with pytest.raises(ValueError):
                r.rename(k2, k2)
            with pytest.raises(TypeError):
                r.rename(k2, None)
        # Python equality: a str and the same bytes are different
        assert await r.rename(k2, k2.encode()) is True
        assert await r.get(k2) == b"v"
        await r.delete(k2)
    async with client(redis_server, encoding="utf-8") as r:
        await r.set(k, "v")
        assert await r.rename(k, k2) is True
        await r.delete(k2)


async def test_renamenx(redis_server):
    k, k2 = key("a"), key("b")
    async with client(redis_server) as r:
        await r.set(k, "one")
        await r.set(k2, "two")
        assert await r.renamenx(k, k2) is False
        assert await r.mget(k, k2) == [b"one", b"two"]
        await r.delete(k2)
        assert await r.renamenx(k, k2) is True
        assert await r.mget(k, k2) == [None, b"one"]
        with pytest.raises(ReplyError):
            await r.renamenx(k, k2)
        async with nothing_sent(r, redis_server, "renamenx"):
            with pytest.raises(ValueError):
                r.renamenx(k2, k2)
        await r.delete(k2)


# ---------------------------------------------------------------------------
# sort
# ---------------------------------------------------------------------------


async def test_sort(redis_server):
    k = key("list")
    dst = key("dst")
    async with client(redis_server) as r:
        await r.execute(b"RPUSH", k, 3, 1, 2, 10)
        assert await r.sort(k) == [b"1", b"2", b"3", b"10"]
        assert await r.sort(k, asc=True) == [b"1", b"2", b"3", b"10"]
        assert await r.sort(k, asc=False) == [b"10", b"3", b"2", b"1"]
        assert await r.sort(k, asc="yes") == [b"10", b"3", b"2", b"1"]  # DESC unless asc is True
        assert await r.sort(k, alpha=True) == [b"1", b"10", b"2", b"3"]
        assert await r.sort(k, alpha=True, asc=False) == [b"3", b"2", b"10", b"1"]
        # LIMIT only when both offset and count are given
        assert await r.sort(k, offset=1, count=2) == [b"2", b"3"]
        assert await r.sort(k, offset=1) == [b"1", b"2", b"3", b"10"]
        assert await r.sort(k, count=1) == [b"1", b"2", b"3", b"10"]
        # BY and GET patterns
        weights = {1: 40, 2: 30, 3: 20, 10: 10}
        names = {1: "one", 2: "two", 3: "three", 10: "ten"}
        for n in weights:
            await r.set(f"{k}:w:{n}", weights[n])
            await r.set(f"{k}:n:{n}", names[n])
        assert await r.sort(k, by=f"{k}:w:*") == [b"10", b"3", b"2", b"1"]
        assert await r.sort(k, f"{k}:n:*", by=f"{k}:w:*") == [b"ten", b"three", b"two", b"one"]
        assert await r.sort(k, f"{k}:n:*", "#", offset=0, count=2) == [b"one", b"1", b"two", b"2"]
        assert await r.sort(k, by="nosort", offset=0, count=2) == [b"3", b"1"]
        # STORE: the number of stored elements
        assert await r.sort(k, asc=False, store=dst) == 4
        assert await r.execute(b"LRANGE", dst, 0, -1) == [b"10", b"3", b"2", b"1"]
        assert await r.sort(key("missing")) == []
        with pytest.raises(TypeError):
            r.sort(k, by=None, alpha=True, store=1.5j)
        await r.delete(k, dst, *[f"{k}:{p}:{n}" for n in weights for p in "wn"])


# ---------------------------------------------------------------------------
# type / wait
# ---------------------------------------------------------------------------


async def test_type(redis_server):
    k1, k2, k3 = key("s"), key("l"), key("h")
    async with client(redis_server) as r:
        assert await r.type(k1) == b"none"
        await r.set(k1, "v")
        await r.execute(b"RPUSH", k2, "a")
        await r.execute(b"HSET", k3, "f", "v")
        assert await r.type(k1) == b"string"
        assert await r.type(k2) == b"list"
        assert await r.type(k3) == b"hash"
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.type(k1) == "string"
        await r.delete(k1, k2, k3)


async def test_wait(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.set(k, "v")
        assert await r.wait(0, 0) == 0  # no replicas
        t0 = time.monotonic()
        assert await r.wait(1, 50) == 0  # times out after 50 ms
        assert time.monotonic() - t0 >= 0.04
        with pytest.raises(TypeError):
            r.wait(None, 0)
        await r.delete(k)
