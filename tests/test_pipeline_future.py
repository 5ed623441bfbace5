"""_core.PipelineFuture, the placeholder a pipeline's command methods return:
an asyncio-compatible future (no server needed for its own semantics), and
how it behaves inside a real pipeline."""

import asyncio
import contextvars
import gc
import sys
import weakref

import pytest
from helpers import client, key_maker

from aioredis import PipelineError, Redis, ReplyError, _core
from aioredis.commands.pipeline import Pipeline

key = key_maker("aioredis-test:pfut")
PipelineFuture = _core.PipelineFuture


def new():
    return PipelineFuture(asyncio.get_running_loop())


# ---------------------------------------------------------------------------
# the Future protocol, on its own
# ---------------------------------------------------------------------------


async def test_pending_state():
    fut = new()
    assert asyncio.isfuture(fut)
    assert not fut.done() and not fut.cancelled()
    assert fut.get_loop() is asyncio.get_running_loop()
    assert fut._loop is asyncio.get_running_loop()
    with pytest.raises(asyncio.InvalidStateError, match="Result is not ready"):
        fut.result()
    with pytest.raises(asyncio.InvalidStateError, match="Exception is not set"):
        fut.exception()
    assert repr(fut) == "<PipelineFuture pending>"


async def test_result_and_exception():
    fut = new()
    fut.set_result([1, 2])
    assert fut.done() and fut.result() == [1, 2] and fut.exception() is None
    with pytest.raises(asyncio.InvalidStateError):
        fut.set_result(3)
    with pytest.raises(asyncio.InvalidStateError):
        fut.set_exception(ValueError())
    assert fut.cancel() is False
    assert repr(fut) == "<PipelineFuture finished result=[1, 2]>"

    err = new()
    exc = ValueError("boom")
    err.set_exception(exc)
    assert err.exception() is exc
    with pytest.raises(ValueError, match="boom") as info:
        err.result()
    assert info.value is exc


async def test_raising_again_does_not_grow_the_traceback():
    # as asyncio's (Python) Future: each raise starts from the traceback the
    # exception had when it was set, so awaiting a failed placeholder twice
    # does not chain frames (and keep them alive) on the exception
    fut = new()
    fut.set_exception(ValueError("x"))
    assert [_raise_len(fut) for _ in range(3)] == [1, 1, 1]
    assert await asyncio.gather(fut, fut, return_exceptions=True) == [fut.exception()] * 2
    assert _raise_len(fut) == 1
    try:
        raise KeyError("raised before set")
    except KeyError as exc:
        fut = new()
        fut.set_exception(exc)
    assert [_raise_len(fut) for _ in range(3)] == [2, 2, 2]  # its own frame is kept


def _raise_len(fut):
    """Frames in the traceback of fut.result()'s exception."""
    try:
        fut.result()
    except Exception as exc:  # noqa: BLE001
        tb, n = exc.__traceback__, 0
        while tb is not None:
            tb, n = tb.tb_next, n + 1
        return n
    raise AssertionError("result() did not raise")


async def test_set_exception_forms():
    fut = new()
    fut.set_exception(KeyError)  # a class is instantiated
    assert type(fut.exception()) is KeyError
    with pytest.raises(TypeError, match="StopIteration"):
        new().set_exception(StopIteration(1))
    with pytest.raises(TypeError, match="invalid exception"):
        new().set_exception(42)


async def test_cancel_with_message():
    fut = new()
    assert fut.cancel("because") is True
    assert fut.cancelled() and fut.done()
    with pytest.raises(asyncio.CancelledError, match="because"):
        fut.result()
    with pytest.raises(asyncio.CancelledError):
        fut.exception()
    assert fut._make_cancelled_error().args == ("because",)
    assert new()._make_cancelled_error().args == ()
    assert fut.cancel() is False
    assert repr(fut) == "<PipelineFuture cancelled>"


async def test_long_result_repr_is_cut():
    fut = new()
    fut.set_result(b"x" * 1000)
    shown = repr(fut)
    assert shown.startswith("<PipelineFuture finished result=b'xxx") and shown.endswith("...>")
    assert len(shown) < 120


async def test_done_callbacks_run_soon_in_their_context():
    var = contextvars.ContextVar("var", default="unset")
    seen = []
    fut = new()

    def callback(f):
        seen.append((f, var.get()))

    var.set("at add")
    fut.add_done_callback(callback)
    other = contextvars.copy_context()
    other.run(var.set, "explicit")
    fut.add_done_callback(callback, context=other)
    fut.set_result(1)
    assert seen == []  # scheduled, not called
    await asyncio.sleep(0)
    assert seen == [(fut, "at add"), (fut, "explicit")]
    fut.add_done_callback(callback)  # already done: scheduled at once
    await asyncio.sleep(0)
    assert len(seen) == 3


async def test_remove_done_callback():
    fut = new()
    calls = []
    fut.add_done_callback(calls.append)
    fut.add_done_callback(calls.append)
    fut.add_done_callback(print)
    assert fut.remove_done_callback(calls.append) == 2
    assert fut.remove_done_callback(calls.append) == 0
    fut.set_result(None)
    await asyncio.sleep(0)
    assert calls == []


async def test_await_pending_then_resolved():
    fut = new()
    loop = asyncio.get_running_loop()
    loop.call_soon(fut.set_result, (1, 2))
    assert await fut == (1, 2)  # a tuple comes back whole
    exc_result = new()
    exc_result.set_result(ValueError("a value"))
    value = await exc_result  # an exception as a result is returned, not raised
    assert isinstance(value, ValueError)
    failing = new()
    loop.call_soon(failing.set_exception, ReplyError("ERR x"))
    with pytest.raises(ReplyError, match="ERR x"):
        await failing
    assert await asyncio.gather(*(new() for _ in range(0))) == []


async def test_await_protocol_details():
    fut = new()
    it = fut.__await__()
    assert next(it) is fut and fut._asyncio_future_blocking is True
    fut._asyncio_future_blocking = False
    with pytest.raises(RuntimeError, match="await wasn't used with future"):
        next(it)
    fut.set_result(5)
    with pytest.raises(StopIteration) as info:
        it.send(None)
    assert info.value.value == 5
    with pytest.raises(AttributeError):
        del fut._asyncio_future_blocking
    with pytest.raises(TypeError):
        type(it)()


async def test_works_with_asyncio_helpers():
    loop = asyncio.get_running_loop()
    a, b = new(), new()
    loop.call_soon(a.set_result, "a")
    loop.call_later(0.01, b.set_result, "b")
    assert await asyncio.gather(a, b) == ["a", "b"]
    c = new()
    done, pending = await asyncio.wait([c], timeout=0.01)
    assert not done and pending == {c}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(c, 0.01)
    assert c.cancelled()  # wait_for cancels what timed out
    d = new()
    shielded = asyncio.shield(d)
    shielded.cancel()
    loop.call_soon(d.set_result, "kept")
    assert await d == "kept"
    e = new()
    loop.call_soon(e.set_result, "e")
    assert await asyncio.ensure_future(e) == "e"


async def test_cancelling_the_awaiting_task_cancels_it():
    fut = new()
    task = asyncio.ensure_future(fut)
    waiter = asyncio.create_task(asyncio.wait_for(asyncio.shield(task), 5))
    await asyncio.sleep(0)
    awaiting = asyncio.create_task(_await(fut))
    await asyncio.sleep(0)
    awaiting.cancel("stop")
    with pytest.raises(asyncio.CancelledError):
        await awaiting
    assert fut.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def _await(fut):
    return await fut


async def test_weakref_and_cycles_collected():
    fut = new()
    ref = weakref.ref(fut)
    fut.add_done_callback(lambda f, keep=fut: None)  # a cycle through its callbacks
    del fut
    gc.collect()
    assert ref() is None


def test_needs_a_loop_argument():
    with pytest.raises(TypeError):
        PipelineFuture()


async def test_generic_alias():
    assert PipelineFuture[int].__origin__ is PipelineFuture


# ---------------------------------------------------------------------------
# in a pipeline, against a real server
# ---------------------------------------------------------------------------


async def test_pipeline_methods_return_pipeline_futures(redis_server):
    async with client(redis_server) as redis:
        k = key("a")
        pipe = redis.pipeline()
        set_fut, get_fut, bad = pipe.set(k, "1"), pipe.get(k), pipe.lpush(k, "x")
        failed_call = pipe.set(k, "v", expire="1")  # fails when called
        assert all(type(f) is PipelineFuture for f in (set_fut, get_fut, bad, failed_call))
        early = asyncio.ensure_future(get_fut)  # awaited before execute
        results = await pipe.execute(return_exceptions=True)
        assert results[:2] == [True, b"1"]
        assert isinstance(results[2], ReplyError) and isinstance(results[3], TypeError)
        assert await early == b"1"
        assert await set_fut is True
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await bad
        assert bad.exception() is results[2]


async def test_placeholder_cancelled_before_its_reply(redis_server):
    async with client(redis_server) as redis:
        k = key("b")
        pipe = redis.pipeline()
        first, second = pipe.set(k, "1"), pipe.get(k)
        assert first.cancel()
        with pytest.raises(PipelineError) as info:
            await pipe.execute()
        errors = info.value.args[1]
        assert len(errors) == 1 and isinstance(errors[0], asyncio.CancelledError)
        assert second.result() == b"1"  # its reply was still read
        assert await redis.get(k) == b"1"  # and the connection is in sync


async def test_holds_its_command_until_sent(redis_server):
    async with client(redis_server) as redis:
        k = key("c")
        pipe = redis.pipeline()
        fut = pipe.set(k, "v")
        slow = pipe.get(k, encoding="utf-8")
        assert (fut._command, fut._args, fut._convert) == (b"SET", (k, "v"), _core.ok)
        assert (slow._command, slow._args, slow._encoding) == (b"GET", (k,), "utf-8")
        assert await pipe.execute() == [True, "v"]
        for f in (fut, slow):  # sent: the arguments are not kept
            assert (f._command, f._args, f._encoding, f._convert) == (None,) * 4


async def test_python_senders_release_the_commands(redis_server):
    # MULTI/EXEC and a connection without _execute_batch take each command
    # out of its placeholder too: a sent value is not kept by the pipeline
    class Wrapped:  # anything with execute() (command by command)
        def __init__(self, conn):
            self.execute = conn.execute

    async with client(redis_server) as redis:
        k = key("r")
        for pipe in (redis.multi_exec(), Pipeline(Wrapped(redis.connection), Redis)):
            futs = [pipe.set(k, "v"), pipe.get(k, encoding="utf-8")]
            assert futs[0]._args == (k, "v")
            assert await pipe.execute() == [True, "v"]
            for f in futs:
                assert (f._command, f._args, f._encoding, f._convert) == (None,) * 4
            with pytest.raises(TypeError, match="holding a command"):
                f._take_command()  # taken once


async def test_command_and_args_go_together():
    loop = asyncio.get_running_loop()
    with pytest.raises(TypeError, match="together"):
        PipelineFuture(loop, b"GET")
    with pytest.raises(TypeError):
        PipelineFuture(loop, b"GET", [b"k"])  # args is a tuple
    fut = PipelineFuture(loop, b"GET", (b"k",))
    assert fut._encoding is _core.NOTSET and fut._convert is None


async def test_execute_batch_takes_only_pipeline_futures(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        with pytest.raises(TypeError, match="PipelineFuture holding a command"):
            conn._execute_batch([asyncio.get_running_loop().create_future()])
        with pytest.raises(TypeError, match="PipelineFuture holding a command"):
            conn._execute_batch([new()])  # one without a command
        assert await redis.echo("still fine") == b"still fine"


async def test_results_of():
    done = [new() for _ in range(3)]
    for i, fut in enumerate(done):
        fut.set_result(i)
    assert _core.results_of(done) == [0, 1, 2]
    assert _core.results_of([]) == []
    failed, cancelled, other = new(), new(), asyncio.get_running_loop().create_future()
    failed.set_exception(ValueError())
    cancelled.cancel()
    other.set_result(3)
    for odd in (new(), failed, cancelled, other):  # pending, failed, cancelled, not ours
        assert _core.results_of(done + [odd]) is None
    with pytest.raises(TypeError):
        _core.results_of(tuple(done))


async def test_no_reference_leaks():
    loop = asyncio.get_running_loop()
    it_type = type(new().__await__())

    def ignore(fut):
        pass

    def churn():
        for _ in range(1000):
            fut = PipelineFuture(loop, b"GET", (b"k",))
            fut.add_done_callback(ignore)
            fut.set_result([b"v"])
            fut.__await__()
            fut.result()

    churn()  # warm up caches
    await asyncio.sleep(0)
    gc.collect()
    before = (sys.getrefcount(PipelineFuture), sys.getrefcount(it_type), sys.getrefcount(loop))
    churn()
    await asyncio.sleep(0)  # the scheduled callbacks run and let go of the futures
    gc.collect()
    after = (sys.getrefcount(PipelineFuture), sys.getrefcount(it_type), sys.getrefcount(loop))
    assert after == before


async def test_chain_sets_an_asyncio_future_at_once():
    loop = asyncio.get_running_loop()
    fut, done = new(), loop.create_future()
    fut._chain(done)
    with pytest.raises(RuntimeError, match="already chained"):
        fut._chain(loop.create_future())
    fut.set_result(1)
    assert done.done() and done.result() is None  # within set_result, no loop round
    late = loop.create_future()
    fut._chain(late)  # already done: at once
    assert late.done()
    gone = loop.create_future()
    other = new()
    other._chain(gone)
    gone.cancel()  # its waiter left: setting it later is not an error
    other.cancel()
    assert other.cancelled() and gone.cancelled()


async def test_atomic_arguments_are_not_tracked_by_the_gc(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        plain = pipe.set(key("d"), b"v")  # bytes only: cannot be in a cycle
        view = pipe.set(key("d"), memoryview(b"v"))  # a memoryview is a container
        assert not gc.is_tracked(plain._args)
        assert gc.is_tracked(view._args)
        assert await pipe.execute() == [True, True]


async def test_remove_done_callback_survives_python_code_in_comparisons():
    fut = new()
    calls = []

    class Sneaky:
        """A callback whose comparison adds another callback, or finishes the future."""

        def __init__(self, action):
            self.action = action

        def __call__(self, f):
            calls.append(self.action)

        def __eq__(self, other):
            if self.action == "add":
                self.action = "added"  # once
                fut.add_done_callback(calls.append)
            elif self.action == "finish" and not fut.done():
                fut.set_result(1)
            return False

        __hash__ = object.__hash__

    fut.add_done_callback(Sneaky("add"))
    assert fut.remove_done_callback(print) == 0
    fut.add_done_callback(Sneaky("finish"))
    assert fut.remove_done_callback(print) == 0  # the future finished while comparing
    await asyncio.sleep(0)
    # every callback ran once: the two Sneaky ones and the one added while comparing
    assert sorted(map(str, calls)) == sorted(["added", "finish", str(fut)])


async def test_set_exception_whose_class_finishes_the_future():
    fut = new()

    class Meddling(Exception):
        def __init__(self):
            super().__init__()
            fut.set_result("first")  # the future is done before set_exception goes on

    with pytest.raises(asyncio.InvalidStateError):
        fut.set_exception(Meddling)
    assert fut.result() == "first"
