"""Shared test machinery: real redis-server processes and an asyncio runner.

* ``redis_server`` (session): one plain server started here (free loopback TCP
  port + unix socket in a temporary directory), or the server named by
  ``$REDIS_URL`` when that is set.
* ``start_redis`` (function): factory for extra throwaway servers with extra
  arguments (``start_redis('--requirepass', 'secret')``); they are stopped at
  teardown.  Used even when ``$REDIS_URL`` is set.
* ``flush``: FLUSHALL on the shared server before the test.
* ``Reader`` (no server): the RESP reader class under test, parametrized over
  the C ``aioredis.parser.Reader`` and the pure-Python ``PyReader``.

The binary is ``$REDIS_SERVER`` or ``redis-server`` on ``$PATH``.  When it is
missing the tests that need it are skipped locally, but FAIL when ``$CI`` is
set: a missing server must never be hidden in CI.

``async def`` tests run without any plugin: each gets a fresh event loop
(``asyncio.Runner``), a timeout, and a loop exception handler; anything that
reaches the handler ("Future exception was never retrieved", "data_received()
call failed", ...) fails the test. Marked ``uvloop``, the loop is uvloop's
(skipped locally when uvloop is not installed, a failure under ``$CI``).

Plain helpers shared by the test modules (clients, key names, recorders)
are in helpers.py.
"""

import asyncio
import gc
import inspect
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import traceback
import urllib.parse

import pytest

pytest.register_assert_rewrite("helpers")  # its asserts explain failures like the tests' own

from helpers import load_c_reader, load_py_reader  # noqa: E402 - after register_assert_rewrite

ASYNC_TEST_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 10.0

# Fixtures whose use makes a test an integration test.
_SERVER_FIXTURES = {"redis_server", "start_redis", "flush"}


# ---------------------------------------------------------------------------
# pytest hooks
# ---------------------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: the test talks to a real redis-server (started by the fixtures or $REDIS_URL)"
    )
    config.addinivalue_line(
        "markers", "async_timeout(seconds): per-test timeout of an async test (default %d s)" % ASYNC_TEST_TIMEOUT
    )
    config.addinivalue_line("markers", "uvloop: the async test runs on uvloop's event loop")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


class _LoopErrors:
    """Loop exception handler that records every context it receives."""

    def __init__(self):
        self.contexts = []

    def __call__(self, loop, context):
        self.contexts.append(dict(context))

    def report(self):
        parts = []
        for ctx in self.contexts:
            lines = [str(ctx.get("message", "<no message>"))]
            for key, value in ctx.items():
                if key in ("message", "exception"):
                    continue
                lines.append(f"  {key}: {value!r}")
            exc = ctx.get("exception")
            if exc is not None:
                lines.append("".join(traceback.format_exception(exc)).rstrip())
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    marker = pyfuncitem.get_closest_marker("async_timeout")
    timeout = marker.args[0] if marker else ASYNC_TEST_TIMEOUT
    loop_factory = _uvloop_factory() if pyfuncitem.get_closest_marker("uvloop") else None
    run_async(func(**kwargs), timeout=timeout, loop_factory=loop_factory)
    return True


def _uvloop_factory():
    try:
        import uvloop
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"uvloop is not importable (CI must have it: pip install -e .[test]): {exc}")
        pytest.skip(f"uvloop is not importable: {exc}")
    return uvloop.new_event_loop


def run_async(coro, timeout=ASYNC_TEST_TIMEOUT, loop_factory=None):
    """Run ``coro`` on a fresh loop (asyncio's, or loop_factory's) with a
    timeout; fail on loop errors."""
    errors = _LoopErrors()
    timed_out = False

    async def main():
        nonlocal timed_out
        asyncio.get_running_loop().set_exception_handler(errors)
        try:
            async with asyncio.timeout(timeout) as scope:
                return await coro
        except TimeoutError:
            # Only a timeout of the test body itself is reported as such.
            timed_out = scope.expired()
            raise
        finally:
            # Futures dropped by the test report "exception never retrieved"
            # from __del__: make that happen while the handler is installed.
            gc.collect()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        try:
            result = runner.run(main())
        except TimeoutError:
            if not timed_out:
                raise
    if timed_out:
        pytest.fail(f"async test timed out after {timeout} s", pytrace=False)
    gc.collect()  # anything collected after the loop closed still calls the handler
    if errors.contexts:
        pytest.fail("the event loop exception handler was called:\n" + errors.report(), pytrace=False)
    return result


# ---------------------------------------------------------------------------
# redis-server processes
# ---------------------------------------------------------------------------


def redis_server_binary():
    """Path of redis-server; pytest.skip locally / pytest.fail in CI if missing."""
    path = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    why = f"redis-server not found (REDIS_SERVER={os.environ.get('REDIS_SERVER')!r}, PATH lookup failed)"
    if os.environ.get("CI"):
        pytest.fail(why + "; $CI is set so this is an error, not a skip", pytrace=False)
    pytest.skip(why)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def raw_command(address, *args, password=None, timeout=5.0):
    """Send one command over a fresh blocking socket and return the reply.

    Independent of aioredis (uses hiredis.Reader); error replies are returned
    as ``hiredis.ReplyError`` instances, not raised.
    """
    import hiredis

    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        commands = [args]
        if password is not None:
            commands.insert(0, ("AUTH", password))
        sock.sendall(b"".join(_encode_command(c) for c in commands))
        reader = hiredis.Reader()
        replies = []
        while len(replies) < len(commands):
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            reader.feed(data)
            while True:
                reply = reader.gets()
                if reply is False:
                    break
                replies.append(reply)
        if password is not None and isinstance(replies[0], hiredis.ReplyError):
            raise ConnectionError("AUTH failed")
        return replies[-1]


class RedisServer:
    """A redis-server: either a process started here or the $REDIS_URL server."""

    def __init__(self, host, port, unix_path=None, password=None, db=0, proc=None, workdir=None):
        self.host = host
        self.port = port
        self.unix_path = unix_path
        self.password = password
        self.db = db
        self.proc = proc
        self.workdir = workdir

    @property
    def tcp_address(self):
        return (self.host, self.port)

    @property
    def url(self):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    @property
    def log_path(self):
        return os.path.join(self.workdir, "redis.log") if self.workdir else None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except (OSError, TypeError):
            return "<no log>"

    def command(self, *args):
        """Run one command on a fresh raw connection (authenticated if needed)."""
        return raw_command(self.tcp_address, *args, password=self.password)

    # -- process control ---------------------------------------------------

    @classmethod
    def start(cls, *extra_args, unix_socket=True):
        binary = redis_server_binary()
        last_log = ""
        for _attempt in range(3):  # the free port may be taken between bind() and exec
            workdir = tempfile.mkdtemp(prefix="aioredis-test-")  # short: unix paths max ~107 bytes
            port = free_port()
            unix_path = os.path.join(workdir, "redis.sock") if unix_socket else None
            argv = [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", workdir,
                "--daemonize", "no",
                "--logfile", os.path.join(workdir, "redis.log"),
                "--databases", "16",
            ]
            if unix_path:
                argv += ["--unixsocket", unix_path, "--unixsocketperm", "700"]
            argv += [str(a) for a in extra_args]
            password = None
            if "--requirepass" in argv:
                password = argv[argv.index("--requirepass") + 1]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            server = cls("127.0.0.1", port, unix_path, password=password, proc=proc, workdir=workdir)
            if server._wait_ready():
                return server
            last_log = server.log()
            stderr = server.stop()
            last_log += stderr
            if "Address already in use" not in last_log:
                break
        pytest.fail(
            f"redis-server did not become ready within {SERVER_START_TIMEOUT} s.\n"
            f"argv: {argv}\n--- log ---\n{last_log}",
            pytrace=False,
        )

    def _wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(self.tcp_address, timeout=1.0) as sock:
                    sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                    data = b""
                    while not data.endswith(b"\r\n"):
                        chunk = sock.recv(1024)
                        if not chunk:
                            break
                        data += chunk
                # +PONG, or -NOAUTH from a password-protected server: both mean ready.
                if data.startswith(b"+PONG") or data.startswith(b"-NOAUTH"):
                    if not self.unix_path or os.path.exists(self.unix_path):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def kill(self):
        """SIGKILL the server process (it cannot close connections cleanly)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self):
        """Terminate, then kill; remove the work directory. Returns stderr."""
        stderr = ""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            if self.proc.stderr is not None:
                stderr = self.proc.stderr.read().decode(errors="replace")
                self.proc.stderr.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return stderr

    def __repr__(self):
        return f"<RedisServer {self.host}:{self.port} unix={self.unix_path!r}>"


def _server_from_url(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("redis", ""):
        raise pytest.UsageError(f"REDIS_URL must be a redis:// URL, got {url!r}")
    db = 0
    path = parts.path.strip("/")
    if path:
        db = int(path)
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return RedisServer(parts.hostname or "localhost", parts.port or 6379, None, password=password, db=db)


@pytest.fixture(scope="session")
def redis_server():
    """The shared plain server: $REDIS_URL's, or one started for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        server = _server_from_url(url)
        try:
            server.command("PING")
        except OSError as exc:
            pytest.fail(f"REDIS_URL={url!r} is not reachable: {exc}", pytrace=False)
        yield server
        return
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unix_path(redis_server):
    """Unix socket path of the shared server (skips only under $REDIS_URL)."""
    if redis_server.unix_path is None:
        pytest.skip("REDIS_URL is set: the external server's unix socket is unknown")
    return redis_server.unix_path


@pytest.fixture
def start_redis():
    """Factory: ``start_redis(*extra_args) -> RedisServer``; all stopped at teardown."""
    started = []

    def start(*extra_args, unix_socket=True):
        server = RedisServer.start(*extra_args, unix_socket=unix_socket)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def flush(redis_server):
    """FLUSHALL the shared server before the test; yields the server."""
    reply = redis_server.command("FLUSHALL")
    assert reply == b"OK", reply
    return redis_server


# ---------------------------------------------------------------------------
# RESP readers (no server)
# ---------------------------------------------------------------------------


@pytest.fixture(params=["Reader", "PyReader"])
def Reader(request):
    """The reader class under test: the C one or the pure-Python one."""
    return load_c_reader() if request.param == "Reader" else load_py_reader()
