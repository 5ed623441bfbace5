"""Pipeline and MultiExec: commands buffered, then sent in one go.

``redis.pipeline()`` / ``redis.multi_exec()`` return an object on which the
command methods of the ``Redis`` class can be called as usual. Nothing is
sent then: each call is recorded and returns a placeholder future (a
``_core.PipelineFuture``: asyncio-compatible, much cheaper to create). ``await
obj.execute()`` takes one connection and queues every recorded command on
it synchronously (``MultiExec`` wraps them in MULTI ... EXEC), so the whole
batch leaves in one ``transport.write`` and no other command can come in
between. Then it waits for the replies and returns the results in call
order.

How it is built: the command methods are the ordinary ``Redis`` ones, run on
a ``type(redis)`` instance whose "connection" is a :class:`_Buffer`. The
buffer's ``execute(command, *args, encoding=, convert=)`` has the signature
of ``RedisConnection.execute`` but only records the call, so the methods'
validation and reply converters are reused unchanged.

Cancellation: the commands are queued before anything is awaited and their
replies are collected by a callback on the connection's future of the last
one, not by the awaiting task. A caller cancelled while waiting therefore
never leaves MULTI open or replies owed to nobody; the placeholder futures
still get their results, and a pool connection is released only when the
last reply has arrived.
"""

import asyncio
import functools
import inspect

from .. import _core
from ..connection import RedisConnection, _validate_db
from ..errors import MultiExecError, PipelineError, RedisError, WatchVariableError
from ..util import _NOTSET, check_loop
from ._convert import ok

__all__ = ["Pipeline", "MultiExec"]

_QUEUED = b"QUEUED"
_EXECUTED = "Pipeline already executed. Create new one."
# Commands that would end or nest the transaction MultiExec builds.
_TX_CONTROL = frozenset((b"MULTI", b"EXEC", b"DISCARD"))


def _identity(conn):
    return conn


def _nothing():
    pass


def _set_exception(fut, exc):
    """Fail the placeholder ``fut`` if still pending (a PipelineFuture never
    logs an exception nobody retrieved: ``execute()`` reports it)."""
    if not fut.done():
        fut.set_exception(exc)


def _set_result(fut, value):
    if not fut.done():
        fut.set_result(value)


def _exception_of(reply):
    """A reply future's exception (marking it retrieved), or None."""
    if reply.cancelled():  # never done by the library; be safe
        return asyncio.CancelledError()
    return reply.exception()


def _decode(value, encoding):
    """bytes -> str with ``encoding``, recursively inside lists and dicts."""
    if isinstance(value, bytes):
        return value.decode(encoding)
    if isinstance(value, list):
        return [_decode(item, encoding) for item in value]
    if isinstance(value, dict):
        return {_decode(k, encoding): _decode(v, encoding) for k, v in value.items()}
    return value


def _buffered(placeholders):
    """(placeholder, command, args, encoding, convert) of each buffered
    command, moved out of its placeholder (which then holds no arguments)."""
    for fut in placeholders:
        yield (fut, *fut._take_command())


def _command_name(command):
    if isinstance(command, str):
        command = command.encode("utf-8", "replace")
    elif isinstance(command, bytearray):
        command = bytes(command)
    return command.strip().upper()


def _connection_of(item):
    """The RedisConnection behind a pool item (a Redis or a raw connection)."""
    for _ in range(8):
        if isinstance(item, RedisConnection):
            return item
        inner = getattr(item, "_pool_or_conn", None)
        if inner is None:
            return item
        item = inner
    return item


class _Buffer:
    """Stands in for the connection of the ``Redis`` inside a pipeline:
    ``execute()`` records the command and returns a placeholder future."""

    __slots__ = ("_pipeline", "execute")

    def __init__(self, pipeline):
        self._pipeline = pipeline
        #: execute(command, *args, encoding=, convert=): buffer a command; a
        #: future of its reply, resolved by the pipeline's execute().
        #: pipeline._buffer_command, in C for the plain calls.
        self.execute = pipeline._recorder

    def __repr__(self):
        return f"<{type(self).__name__} of {self._pipeline!r}>"

    def execute_pubsub(self, command, *channels):
        raise RedisError("Pub/Sub commands cannot be used in a pipeline or transaction")

    def select(self, db):
        """Buffer a SELECT; True once executed."""
        _validate_db(db)
        return self.execute(b"SELECT", db, convert=ok)

    def auth(self, password):
        """Buffer an AUTH; True once executed."""
        return self.execute(b"AUTH", password, convert=ok)

    # read-only state of the real connection (or pool)

    @property
    def db(self):
        return self._pipeline._conn.db

    @property
    def encoding(self):
        return self._pipeline._conn.encoding

    @property
    def address(self):
        return self._pipeline._conn.address

    @property
    def closed(self):
        return self._pipeline._conn.closed

    @property
    def in_transaction(self):
        return self._pipeline._conn.in_transaction


class Pipeline:
    """Commands buffered and sent together on one connection.

    ``Pipeline(redis)``, or the 0.1 form ``Pipeline(connection,
    commands_factory=lambda conn: conn, *, loop=None)``. Call command methods
    on it, then ``await pipe.execute()``: the list of results in call order.
    """

    #: raised by execute() when a command failed (and not return_exceptions)
    error_class = PipelineError

    def __init__(self, connection, commands_factory=_identity, *, loop=None):
        if loop is not None:
            check_loop(loop)
        inner = getattr(connection, "_pool_or_conn", None)
        if inner is not None:  # a Redis: pipeline its connection, with its class
            if commands_factory is _identity:
                commands_factory = type(connection)
            connection = inner
        self._conn = connection
        self._commands = []  # placeholders (PipelineFuture), holding their commands
        self._results = []  # what execute() returns, in call order
        # records commands in C; shares the two lists, holds the done flag
        self._recorder = _core.PipelineRecorder(self)
        self._buffer = _Buffer(self)
        self._redis = commands_factory(self._buffer)
        self._watch_aborted = False

    def __repr__(self):
        return f"<{type(self).__name__} {self._conn!r}>"

    @property
    def _done(self):
        """execute() was called: no more commands."""
        return self._recorder.done

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_recorder", "_redis"):
            raise AttributeError(name)
        if self._done:
            raise AssertionError(_EXECUTED)
        attr = getattr(self._redis, name)
        if callable(attr):
            wrapper = _core.PipelineCall(self._recorder, attr)
            # found directly next time (it still refuses after execute())
            self.__dict__[name] = wrapper
            return wrapper
        return attr

    # -- buffering -----------------------------------------------------------

    def _buffer_command(self, command, *args, encoding=_NOTSET, convert=None):
        if self._done:
            raise AssertionError(_EXECUTED)
        if (type(command) is not bytes or encoding is not _NOTSET or self._checks_commands
                or (convert is not None and not callable(convert))):
            self._validate(command, encoding, convert)
        fut = self._create_future(command, args, encoding, convert)
        self._commands.append(fut)
        return fut

    def _create_future(self, *command):
        # the first time: bind the running loop, then use it
        self._create_future = functools.partial(_core.PipelineFuture, asyncio.get_running_loop())
        return self._create_future(*command)

    _checks_commands = False  # MultiExec refuses MULTI/EXEC/DISCARD inside

    def _validate(self, command, encoding, convert):
        if type(command) is not bytes and not isinstance(command, (str, bytes, bytearray)):
            raise TypeError(
                f"command must be str, bytes or bytearray, not {type(command).__name__}"
            )
        if encoding is not _NOTSET and encoding is not None and not isinstance(encoding, str):
            raise TypeError(f"encoding must be a str or None, not {type(encoding).__name__}")
        if convert is not None and not callable(convert):
            raise TypeError("convert must be callable or None")
        self._check_command(command)

    def _check_command(self, command):
        pass

    # A command method of the pipeline is _core.PipelineCall(recorder, method):
    # it runs method (which records one command and returns its placeholder)
    # and appends the placeholder to self._results; for anything else it
    # calls the three helpers below.

    def _call_done(self, method):
        raise AssertionError(_EXECUTED)

    def _call_failed(self, n, exc):
        del self._commands[n:]  # a half-buffered call sends nothing
        fut = _core.PipelineFuture(asyncio.get_running_loop())
        _set_exception(fut, exc)
        self._results.append(fut)
        return fut

    def _call_other(self, result):
        if inspect.isawaitable(result):  # e.g. a coroutine awaiting placeholders
            task = asyncio.ensure_future(result)
            self._results.append(task)
            return task
        return result

    # -- execution -------------------------------------------------------------

    def execute(self, *, return_exceptions=False):
        """Send the buffered commands; an awaitable of the list of results.

        A failed command makes it raise ``PipelineError(errors)``, unless
        ``return_exceptions`` is true: then the exceptions are in the list.
        On a single connection the commands are sent by this call itself;
        on a pool or a reconnecting client as soon as a connection is
        obtained (cancelling the caller before that sends nothing).
        """
        if self._done:
            raise AssertionError(_EXECUTED)
        self._recorder.done = True
        commands = self._commands  # complete: nothing is buffered once done
        sending = None
        if commands:
            target = self._conn
            if isinstance(target, RedisConnection):
                sending = self._send_on(target, commands, None)
            else:
                sending = asyncio.ensure_future(self._acquire_and_send(target, commands))
        return self._wait(sending, return_exceptions)

    async def _wait(self, sending, return_exceptions):
        if sending is not None:
            await sending
        values = _core.results_of(self._results)
        if values is not None:  # the usual case: every command succeeded
            return values
        pending = [f for f in self._results if not f.done()]
        if pending:  # tasks made from awaitable results
            await asyncio.wait(pending)
        return self._gather(return_exceptions)

    async def _acquire_and_send(self, target, commands):
        """Get one connection from ``target`` (a pool, an AutoConnector),
        send the commands on it and wait for the last reply."""
        release = None
        try:
            if isinstance(target, _Buffer):
                raise RedisError("a pipeline cannot be nested in another one")
            if hasattr(target, "acquire") and hasattr(target, "release"):
                item = await target.acquire()  # a pool: hold one connection
                release = functools.partial(target.release, item)
                conn = _connection_of(item)
            elif hasattr(target, "get_atomic_connection"):
                conn = await target.get_atomic_connection()
            else:  # something connection-like
                conn = target
        except asyncio.CancelledError:
            for fut in commands:  # nothing was sent
                fut.cancel()
            raise
        except Exception as exc:
            for fut in commands:
                _set_exception(fut, exc)
            return
        done = self._send_on(conn, commands, release)
        if done is not None:
            await done

    def _send_on(self, conn, commands, release):
        """Queue the commands on ``conn`` now; a future set once the
        placeholders are resolved (None when nothing could be sent).
        ``release`` (if any) is called when the connection is no longer
        needed: after the last reply, whatever happens to the caller."""
        try:
            last, finish = self._send(conn, commands)
        except BaseException:
            if release is not None:
                release()
            raise
        if last is None:
            if release is not None:
                release()
            return None

        done = asyncio.get_running_loop().create_future()
        if release is None and finish is _nothing and type(last) is _core.PipelineFuture:
            # the usual case: nothing to do after the last reply but wake
            # the caller, which the C future does at once (no callback round)
            last._chain(done)
            return done

        def on_last_reply(_):
            # All the replies have arrived (FIFO): resolve the placeholders.
            # A callback, so it runs even if the awaiting task was cancelled.
            try:
                finish()
            finally:
                if release is not None:
                    release()
                if not done.done():
                    done.set_result(None)

        last.add_done_callback(on_last_reply)
        return done

    def _send(self, conn, commands):
        """Queue every command on ``conn`` (synchronously: one write).
        Returns (future of the last reply, callable run once it is done)."""
        batch = getattr(conn, "_execute_batch", None)
        if batch is not None:
            # the C protocol resolves the placeholders themselves
            last = batch(commands)
            return (None, None) if last is None else (last, _nothing)
        # something connection-like: its execute(), command by command
        placeholders = []
        futures = []
        execute = conn.execute
        cork = getattr(conn, "_cork", None)
        if cork is not None:
            cork()  # all of it in one write, even on an idle connection
        try:
            for fut, command, args, encoding, convert in _buffered(commands):
                try:
                    reply = execute(command, *args, encoding=encoding, convert=convert)
                except Exception as exc:
                    _set_exception(fut, exc)
                    continue
                placeholders.append(fut)
                futures.append(reply)
        finally:
            if cork is not None:
                conn._uncork()
        if not futures:
            return None, None
        return futures[-1], functools.partial(self._finish, placeholders, futures)

    @staticmethod
    def _finish(placeholders, futures):
        for fut, reply in zip(placeholders, futures):
            if reply.cancelled():  # never done by the library; be safe
                fut.cancel()
                continue
            exc = reply.exception()
            if exc is None:
                _set_result(fut, reply.result())
            else:
                _set_exception(fut, exc)

    def _gather(self, return_exceptions):
        """The results when some command failed (or was turned into a task):
        the usual case is _core.results_of() in _wait()."""
        results = []
        errors = []
        for fut in self._results:
            if fut.cancelled():
                exc = asyncio.CancelledError()
            else:
                exc = fut.exception()
            if exc is None:
                results.append(fut.result())
            else:
                results.append(exc)
                errors.append(exc)
        if errors and not return_exceptions:
            if self._watch_aborted:
                raise WatchVariableError(errors)
            raise self.error_class(errors)
        return results


class MultiExec(Pipeline):
    """A MULTI/EXEC transaction: the buffered commands run atomically.

    ``await tr.execute()`` sends MULTI, the commands and EXEC in one write
    and returns the results of the commands in call order. A failed command
    makes it raise ``MultiExecError(errors)`` (unless ``return_exceptions``);
    an EXEC aborted by WATCH raises ``WatchVariableError``.
    """

    error_class = MultiExecError

    _checks_commands = True

    def _check_command(self, command):
        if _command_name(command) in _TX_CONTROL:
            raise ValueError(f"{command!r} cannot be used inside multi_exec()")

    def _send(self, conn, commands):
        conn._cork()  # MULTI ... EXEC in one write
        try:
            return self._send_corked(conn, commands)
        finally:
            conn._uncork()

    def _send_corked(self, conn, commands):
        try:
            multi = conn.execute(b"MULTI", encoding=None)
        except Exception as exc:
            for fut in commands:
                _set_exception(fut, exc)
            return None, None
        conn_encoding = conn.encoding
        queued = []  # (placeholder, QUEUED future, effective encoding, convert)
        execute = conn.execute
        for fut, command, args, encoding, convert in _buffered(commands):
            try:
                reply = execute(command, *args, encoding=None)
            except Exception as exc:
                _set_exception(fut, exc)
                continue
            queued.append((fut, reply, conn_encoding if encoding is _NOTSET else encoding, convert))
        try:
            if not queued:  # everything failed to encode: end the empty MULTI
                discard = conn.execute(b"DISCARD")
                return discard, functools.partial(self._finish_empty, multi, discard)
            encodings = {item[2] for item in queued}
            shared = len(encodings) == 1
            exec_fut = conn.execute(b"EXEC", encoding=encodings.pop() if shared else None)
        except BaseException:
            # cannot happen on a healthy connection; never leave it in MULTI
            conn.close()
            raise
        return exec_fut, functools.partial(self._finish_multi, multi, queued, exec_fut, not shared)

    @staticmethod
    def _finish_empty(multi, discard):
        _exception_of(multi)
        _exception_of(discard)

    def _finish_multi(self, multi, queued, exec_fut, decode_items):
        multi_error = _exception_of(multi)
        exec_error = _exception_of(exec_fut)
        pending = []
        for fut, reply, encoding, convert in queued:
            exc = _exception_of(reply)
            if exc is not None:  # failed to queue: that error is its result
                _set_exception(fut, exc)
                continue
            reply = reply.result()
            if reply == _QUEUED:
                pending.append((fut, encoding, convert))
            else:  # a reply Redis did not queue (e.g. QUIT): the result itself
                self._resolve(fut, reply, encoding, convert, True)
        if not pending:
            return
        error = multi_error or exec_error
        if error is None:
            items = exec_fut.result()
            if items is None:  # a WATCHed key changed: nothing ran
                self._watch_aborted = True
                for fut, _, _ in pending:
                    _set_exception(fut, WatchVariableError("WATCH variable has changed"))
                return
            if not isinstance(items, list) or len(items) != len(pending):
                got = len(items) if isinstance(items, list) else repr(items)
                error = RedisError(f"EXEC returned {got} results for {len(pending)} queued commands")
        if error is not None:
            for fut, _, _ in pending:
                _set_exception(fut, error)
            return
        for (fut, encoding, convert), item in zip(pending, items):
            if isinstance(item, Exception):
                _set_exception(fut, item)
            else:
                self._resolve(fut, item, encoding, convert, decode_items)

    @staticmethod
    def _resolve(fut, value, encoding, convert, decode):
        try:
            if decode and encoding is not None:
                value = _decode(value, encoding)
            if convert is not None:
                value = convert(value)
        except Exception as exc:
            _set_exception(fut, exc)
        else:
            _set_result(fut, value)
