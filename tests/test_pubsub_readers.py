"""Several tasks reading one Channel or Receiver (issue 12, item 14), against
a real redis-server with PUBLISH from another connection: every reader is
served, each message goes to exactly one reader, in order; a cancelled reader
passes its wake-up on; closing wakes every reader."""

import asyncio
import contextlib
import json
import uuid

import pytest
from test_pubsub import clients

from aioredis import ChannelClosedError
from aioredis.pubsub import Channel, Receiver

# how long a reader may stay unserved before the test calls it a hang
HANG = 5


def unique(name):
    return f"readers:{name}:{uuid.uuid4().hex[:8]}"


async def settle():
    """Let the readers started so far reach their wait."""
    for _ in range(5):
        await asyncio.sleep(0)


async def served(tasks):
    done, pending = await asyncio.wait(tasks, timeout=HANG)
    for t in pending:
        t.cancel()
    assert not pending, f"{len(pending)} of {len(tasks)} readers hang"
    return [t.result() for t in tasks]


async def test_three_get_readers_three_publishes(redis_server):
    name = unique("three")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        readers = []
        for _ in range(3):
            readers.append(asyncio.ensure_future(ch.get()))
            await settle()
        for i in range(3):
            assert await pub.publish(name, f"m{i}") == 1
        # in the order they started waiting
        assert await served(readers) == [b"m0", b"m1", b"m2"]
        assert ch.qsize() == 0


async def test_every_kind_of_reader_is_served_once_in_order(redis_server):
    name = unique("kinds")
    total = 600
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        got = {}

        async def by_get(key):
            got[key] = out = []
            while (msg := await ch.get()) is not None:
                out.append(int(msg))

        async def by_get_json(key):
            got[key] = out = []
            with contextlib.suppress(ChannelClosedError):
                while (msg := await ch.get_json()) is not None:
                    out.append(msg)

        async def by_wait_message(key):
            got[key] = out = []
            while await ch.wait_message():
                with contextlib.suppress(ChannelClosedError):
                    msg = await ch.get()
                    if msg is not None:
                        out.append(int(msg))

        async def by_iter(key):
            got[key] = out = []
            async for msg in ch.iter(decoder=int):
                out.append(msg)

        async def by_async_for(key):
            got[key] = out = []
            async for msg in ch:
                out.append(int(msg))

        kinds = [by_get, by_get_json, by_wait_message, by_iter, by_async_for]
        readers = [asyncio.ensure_future(kind(i)) for i, kind in enumerate(kinds * 2)]
        await settle()
        for start in range(0, total, 100):
            replies = await asyncio.gather(*(pub.publish(name, json.dumps(i))
                                             for i in range(start, start + 100)))
            assert set(replies) == {1}
            await asyncio.sleep(0)
        await sub.unsubscribe(name)  # closing the channel ends every reader
        # get() readers: one gets the end (None), the rest ChannelClosedError
        results = await asyncio.wait(readers, timeout=HANG)
        assert not results[1], "readers hang after the channel closed"
        for t in readers:
            if t.exception() is not None:
                assert isinstance(t.exception(), ChannelClosedError)
        everything = sorted(m for out in got.values() for m in out)
        assert everything == list(range(total))  # each message exactly once
        for out in got.values():
            assert out == sorted(out)  # each reader sees them in order


async def test_cancelled_reader_passes_its_wake_up_on(redis_server):
    name = unique("cancel")
    async with clients(redis_server) as (sub, pub):
        readers = []

        class CancelFirstReader(Channel):
            # runs inside the protocol's routing, right after the put woke
            # the first reader and before that reader could run
            __slots__ = ()

            def put_nowait(self, data):
                super().put_nowait(data)
                readers[0].cancel()

        ch = CancelFirstReader(name, False)
        await sub.subscribe(ch)
        for _ in range(3):
            readers.append(asyncio.ensure_future(ch.get()))
            await settle()
        await pub.publish(name, "a")  # for readers[0], cancelled: readers[1] takes it
        done, pending = await asyncio.wait(readers[1:2], timeout=HANG)
        assert not pending, "a reader kept waiting with a message queued"
        assert readers[0].cancelled() and readers[1].result() == b"a"
        await pub.publish(name, "b")
        assert await served(readers[2:]) == [b"b"]


async def test_wait_message_takes_nothing_a_get_behind_it_is_served(redis_server):
    name = unique("peek")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        peeker = asyncio.ensure_future(ch.wait_message())
        await settle()
        getter = asyncio.ensure_future(ch.get())
        await settle()
        await pub.publish(name, "only")
        assert await served([peeker, getter]) == [True, b"only"]
        assert ch.qsize() == 0


async def test_closing_wakes_every_waiting_reader(redis_server):
    name = unique("close")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)

        async def drain_iter():
            return [m async for m in ch.iter()]

        readers = [asyncio.ensure_future(ch.get()), asyncio.ensure_future(ch.wait_message()),
                   asyncio.ensure_future(drain_iter()), asyncio.ensure_future(ch.get())]
        await settle()
        await sub.unsubscribe(name)
        done, pending = await asyncio.wait(readers, timeout=HANG)
        assert not pending
        outcomes = [t.exception() or t.result() for t in readers]
        assert outcomes[1] is False and outcomes[2] == []
        ends = [outcomes[0], outcomes[3]]
        assert None in ends  # the end of the stream, once
        assert any(isinstance(e, ChannelClosedError) for e in ends)


async def test_receiver_with_several_readers(redis_server):
    prefix = unique("mpsc")
    async with clients(redis_server) as (sub, pub):
        mpsc = Receiver()
        await sub.subscribe(mpsc.channel(prefix + ":a"), mpsc.channel(prefix + ":b"))
        readers = []
        for _ in range(4):
            readers.append(asyncio.ensure_future(mpsc.get()))
            await settle()
        for i in range(4):
            await pub.publish(prefix + (":a" if i % 2 == 0 else ":b"), str(i))
        got = await served(readers)
        assert [m for _, m in got] == [b"0", b"1", b"2", b"3"]
        assert [s.name for s, _ in got] == [(prefix + x).encode() for x in (":a", ":b", ":a", ":b")]

        async def collect():
            return [m async for _, m in mpsc.iter()]

        iterators = [asyncio.ensure_future(collect()) for _ in range(3)]
        waiting = asyncio.ensure_future(mpsc.wait_message())
        await settle()
        for i in range(4, 34):
            await pub.publish(prefix + ":a", str(i))
        await sub.unsubscribe(prefix + ":a", prefix + ":b")  # the receiver stops
        results = await served(iterators + [waiting])
        assert sorted(int(m) for out in results[:3] for m in out) == list(range(4, 34))
        assert all(out == sorted(out, key=int) for out in results[:3])
        assert results[3] in (True, False)
        assert not mpsc.is_active


@pytest.mark.parametrize("wait", ["get", "wait_message"])
async def test_a_reader_that_finds_its_message_taken_waits_again(redis_server, wait):
    # a reader arriving when a message is already queued takes it at once;
    # the reader that was woken for it must wait for the next one, not hang
    name = unique("barge")
    async with clients(redis_server) as (sub, pub):
        barger = []

        class Barging(Channel):
            __slots__ = ()

            def put_nowait(self, data):
                if not barger:
                    # scheduled before the wake-up the put is about to schedule
                    barger.append(asyncio.ensure_future(self.get()))
                super().put_nowait(data)

        ch = Barging(name, False)
        await sub.subscribe(ch)
        first = asyncio.ensure_future(getattr(ch, wait)())
        await settle()
        await pub.publish(name, "x")
        # the publisher's reply may come before the subscriber's message
        for _ in range(HANG * 100):
            if barger:
                break
            await asyncio.sleep(0.01)
        assert await served(barger) == [b"x"]
        await pub.publish(name, "y")
        (result,) = await served([first])
        assert result == (b"y" if wait == "get" else True)


@pytest.mark.parametrize("seed", range(5))
async def test_random_readers_puts_and_cancellations_lose_nothing(seed):
    # no server: put_nowait is what the protocol calls. Readers of every
    # kind come and go (some cancelled, some right after being woken);
    # every message still goes to exactly one reader and none waits
    # while a message is queued.
    import random

    rnd = random.Random(seed)
    ch = Channel("stress", False)
    got = []

    async def reader():
        with contextlib.suppress(ChannelClosedError):
            while True:
                if rnd.random() < 0.3 and not await ch.wait_message():
                    return
                msg = await ch.get()
                if msg is None:
                    return
                got.append(int(msg))

    readers = [asyncio.ensure_future(reader()) for _ in range(6)]
    sent = 0
    for _ in range(400):
        step = rnd.random()
        if step < 0.5:
            ch.put_nowait(b"%d" % sent)
            sent += 1
        elif step < 0.6:
            victim = rnd.choice(readers)
            victim.cancel()
            readers.remove(victim)
            readers.append(asyncio.ensure_future(reader()))
        for _ in range(rnd.randrange(3)):
            await asyncio.sleep(0)
    async with asyncio.timeout(HANG):
        while len(got) < sent:  # queued messages are taken without more puts
            await asyncio.sleep(0)
    ch.close()
    await asyncio.wait(readers, timeout=HANG)
    assert all(t.done() for t in readers)
    # a reader is only cancelled while it waits, never holding a message
    assert sorted(got) == list(range(sent))
