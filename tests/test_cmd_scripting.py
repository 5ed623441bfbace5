"""Scripting commands (ScriptingCommandsMixin) against real redis-servers."""

import asyncio
import hashlib
import uuid

import pytest
from helpers import assert_still_in_sync, client, key_maker

from aioredis import ReplyError


key = key_maker("aioredis-test:script")


def sha1(script):
    return hashlib.sha1(script.encode()).hexdigest()


async def test_eval(redis_server):
    async with client(redis_server) as redis:
        k1, k2 = key("a"), key("b")
        script = "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}"
        res = await redis.eval(script, keys=[k1, k2], args=["x", 7])
        assert res == [k1.encode(), k2.encode(), b"x", b"7", 2, 2]
        # positional keys and args
        assert await redis.eval("return #KEYS * 10 + #ARGV", [k1], [1, 2, 3]) == 13
        assert await redis.eval("return #KEYS * 10 + #ARGV") == 0
        # tuples work when both are tuples
        assert await redis.eval("return {KEYS[1], ARGV[1]}", (k1,), ("v",)) == [k1.encode(), b"v"]

        # Lua types
        assert await redis.eval("return 42") == 42
        assert await redis.eval("return 'str'") == b"str"
        assert await redis.eval("return nil") is None
        assert await redis.eval("return {1, 'two', {3}}") == [1, b"two", [3]]
        assert await redis.eval("return redis.status_reply('FINE')") == b"FINE"

        # the keys really are keys
        await redis.eval("return redis.call('SET', KEYS[1], ARGV[1])", [k1], ["value"])
        assert await redis.execute(b"GET", k1) == b"value"

        with pytest.raises(ReplyError):
            await redis.eval("return redis.error_reply('my error')")
        with pytest.raises(ReplyError):
            await redis.eval("this is not lua")
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.eval("return {KEYS[1], ARGV[1]}", [k1], ["ü"]) == [k1, "ü"]


async def test_eval_type_errors(redis_server):
    async with client(redis_server) as redis:
        for kwargs in [
            {"keys": "not:list"},
            {"keys": "not:list", "args": []},
            {"keys": ("a",), "args": ["b"]},
            {"keys": ["a"], "args": ("b",)},
            {"keys": [None]},
            {"args": [None]},
            {"keys": [object()]},
        ]:
            with pytest.raises(TypeError):
                redis.eval("return 1", **kwargs)
            with pytest.raises(TypeError):
                redis.evalsha("0" * 40, **kwargs)
        with pytest.raises(TypeError):
            redis.eval(None)
        await assert_still_in_sync(redis)


async def test_script_load_evalsha_exists_flush(redis_server):
    async with client(redis_server) as redis:
        script = f"return {{'{uuid.uuid4().hex}', KEYS[1], ARGV[1]}}"
        digest = await redis.script_load(script)
        assert digest == sha1(script).encode()
        assert await redis.evalsha(digest, [b"k"], [b"v"]) == [script.split("'")[1].encode(), b"k", b"v"]
        assert await redis.evalsha(digest.decode(), keys=["k"], args=[1]) == [
            script.split("'")[1].encode(), b"k", b"1"]

        other = sha1("return 'never loaded'" + uuid.uuid4().hex)
        assert await redis.script_exists(digest) == [1]
        assert await redis.script_exists(digest, other, digest) == [1, 0, 1]
        with pytest.raises(ReplyError, match="NOSCRIPT"):
            await redis.evalsha(other)
        await assert_still_in_sync(redis)

        # running a script with EVAL caches it too
        script2 = f"return '{uuid.uuid4().hex}'"
        assert await redis.script_exists(sha1(script2)) == [0]
        await redis.eval(script2)
        assert await redis.script_exists(sha1(script2)) == [1]
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.script_load(script) == sha1(script)
        assert await redis.script_flush() is True
        assert await redis.script_exists(digest, sha1(script2)) == [0, 0]
        with pytest.raises(ReplyError, match="NOSCRIPT"):
            await redis.evalsha(digest, ["k"], ["v"])
    async with client(redis_server) as redis:
        assert await redis.script_flush() is True


async def test_script_kill(start_redis):
    # scripts become killable after busy-reply-threshold (alias lua-time-limit) ms
    server = start_redis("--lua-time-limit", "10")
    async with client(server) as redis, client(server) as runner:
        with pytest.raises(ReplyError, match="NOTBUSY"):
            await redis.script_kill()
        await assert_still_in_sync(redis)

        busy = runner.eval("while true do end")
        await asyncio.sleep(0.1)
        for _ in range(100):
            try:
                assert await redis.script_kill() is True
                break
            except ReplyError as exc:  # BUSY not reached yet
                assert "NOTBUSY" in str(exc)
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("the script could never be killed")
        with pytest.raises(ReplyError, match="killed"):
            await busy
        assert await runner.eval("return 1") == 1
    async with client(server, encoding="utf-8") as redis:
        with pytest.raises(ReplyError, match="NOTBUSY"):
            await redis.script_kill()


async def test_converters_pass_queued_through(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        assert await conn.execute(b"MULTI") == b"OK"
        assert await redis.script_flush() == b"QUEUED"
        assert await redis.eval("return 5") == b"QUEUED"
        assert await conn.execute(b"EXEC") == [b"OK", 5]
