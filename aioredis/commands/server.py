"""Server commands."""

from collections import namedtuple

from ..util import _NOTSET
from ._convert import _QUEUED, ok, pairs_to_dict

__all__ = [
    "ServerCommandsMixin",
    "MasterInfo",
    "MasterSlaveInfo",
    "SlaveInfo",
    "SentinelInfo",
]

#: ``role()`` of a master: its replication offset and its connected replicas.
MasterInfo = namedtuple("MasterInfo", "role replication_offset slaves")
#: One replica in ``MasterInfo.slaves``.
MasterSlaveInfo = namedtuple("MasterSlaveInfo", "ip port ack_offset")
#: ``role()`` of a replica.
SlaveInfo = namedtuple("SlaveInfo", "role master_ip master_port state received")
#: ``role()`` of a sentinel: the names of the masters it monitors.
SentinelInfo = namedtuple("SentinelInfo", "role masters")


# ---------------------------------------------------------------------------
# reply converters (run by the C protocol when the reply arrives)
# ---------------------------------------------------------------------------


def _started(reply):
    """True for the status reply of BGSAVE / BGREWRITEAOF; QUEUED passes through."""
    if reply in _QUEUED:
        return reply
    return True


def _to_time(reply):
    """[seconds, microseconds] -> float seconds."""
    if reply in _QUEUED:
        return reply
    seconds, micros = reply
    return int(seconds) + int(micros) / 1_000_000


def _info_value(value):
    """'a=1,b=2' -> {'a': '1', 'b': '2'}; anything else stays a str."""
    if "=" not in value:
        return value
    items = value.split(",")
    if not all("=" in item for item in items):
        return value
    return dict(item.split("=", 1) for item in items)


def _parse_info(text):
    """INFO text -> {section: {key: value or {k: v}}} (section names lower-cased)."""
    if text in _QUEUED:
        return text
    result = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            section = result.setdefault(line[1:].strip().lower(), {})
            continue
        if section is None:
            section = result.setdefault("", {})
        key, _, value = line.partition(":")
        section[key] = _info_value(value)
    return result


def _parse_client_list(text):
    """CLIENT LIST text -> [ClientInfo(id=..., addr=..., ...), ...] (values are str)."""
    if text in _QUEUED:
        return text
    result = []
    types = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [item.partition("=") for item in line.split(" ") if item]
        names = tuple(name.replace("-", "_") for name, _, _ in fields)
        cls = types.get(names)
        if cls is None:
            cls = types[names] = namedtuple("ClientInfo", names, rename=True)
        result.append(cls(*(value for _, _, value in fields)))
    return result


def _parse_role(reply):
    """ROLE reply -> MasterInfo, SlaveInfo or SentinelInfo (raw for anything else)."""
    if reply in _QUEUED:
        return reply
    kind = reply[0]
    if kind == "master":
        slaves = [MasterSlaveInfo(ip, int(port), int(offset)) for ip, port, offset in reply[2]]
        return MasterInfo(kind, int(reply[1]), slaves)
    if kind == "slave":
        return SlaveInfo(kind, reply[1], int(reply[2]), reply[3], int(reply[4]))
    if kind == "sentinel":
        return SentinelInfo(kind, reply[1])
    return reply


class ServerCommandsMixin:
    """Server commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def bgrewriteaof(self):
        """Start rewriting the append-only file in the background; True once started."""
        return self._execute(b"BGREWRITEAOF", convert=_started)

    def bgsave(self):
        """Start saving the dataset to disk in the background; True once started."""
        return self._execute(b"BGSAVE", convert=_started)

    def client_kill(self):
        """Kill the connection of a client (not implemented)."""
        raise NotImplementedError("client_kill is not implemented")

    def client_list(self):
        """The client connections, as a list of ClientInfo namedtuples of str."""
        return self._execute(b"CLIENT", b"LIST", encoding="utf-8", convert=_parse_client_list)

    def client_getname(self, encoding=_NOTSET):
        """The name of the current connection, or None."""
        return self._execute(b"CLIENT", b"GETNAME", encoding=encoding)

    def client_pause(self, timeout):
        """Stop processing commands from clients for timeout milliseconds."""
        if not isinstance(timeout, int):
            raise TypeError(f"timeout argument must be int, not {type(timeout).__name__}")
        if timeout < 0:
            raise ValueError(f"timeout must be greater or equal to 0, got {timeout}")
        return self._execute(b"CLIENT", b"PAUSE", timeout, convert=ok)

    def client_reply(self):
        """Switch server replies on or off (not implemented: it would desync replies)."""
        raise NotImplementedError("client_reply is not implemented")

    def client_setname(self, name):
        """Set the name of the current connection."""
        return self._execute(b"CLIENT", b"SETNAME", name, convert=ok)

    def command(self):
        """Details of every Redis command (nested lists of str)."""
        return self._execute(b"COMMAND", encoding="utf-8")

    def command_count(self):
        """The number of Redis commands."""
        return self._execute(b"COMMAND", b"COUNT")

    def command_getkeys(self, command, *args, encoding="utf-8"):
        """The keys of a full Redis command."""
        return self._execute(b"COMMAND", b"GETKEYS", command, *args, encoding=encoding)

    def command_info(self, command, *commands):
        """Details of the given Redis commands (None for unknown ones)."""
        return self._execute(b"COMMAND", b"INFO", command, *commands, encoding="utf-8")

    def config_get(self, parameter="*"):
        """Configuration parameters matching a pattern, as a dict of str."""
        if not isinstance(parameter, str):
            raise TypeError(f"parameter must be str, not {type(parameter).__name__}")
        return self._execute(b"CONFIG", b"GET", parameter, encoding="utf-8", convert=pairs_to_dict)

    def config_rewrite(self):
        """Rewrite the configuration file with the running configuration."""
        return self._execute(b"CONFIG", b"REWRITE", convert=ok)

    def config_set(self, parameter, value):
        """Set a configuration parameter."""
        if not isinstance(parameter, str):
            raise TypeError(f"parameter must be str, not {type(parameter).__name__}")
        return self._execute(b"CONFIG", b"SET", parameter, value, convert=ok)

    def config_resetstat(self):
        """Reset the statistics reported by INFO."""
        return self._execute(b"CONFIG", b"RESETSTAT", convert=ok)

    def dbsize(self):
        """The number of keys in the current database."""
        return self._execute(b"DBSIZE")

    def debug_object(self, key):
        """Debugging information about a key (a status line)."""
        return self._execute(b"DEBUG", b"OBJECT", key)

    def debug_segfault(self, key):
        """Crash the server (key is unused)."""
        return self._execute(b"DEBUG", b"SEGFAULT")

    def debug_sleep(self, timeout):
        """Make the server sleep for timeout seconds."""
        return self._execute(b"DEBUG", b"SLEEP", timeout, convert=ok)

    def flushall(self, async_op=False):
        """Remove every key of every database (in the background with async_op)."""
        if async_op:
            return self._execute(b"FLUSHALL", b"ASYNC", convert=ok)
        return self._execute(b"FLUSHALL", convert=ok)

    def flushdb(self, async_op=False):
        """Remove every key of the current database (in the background with async_op)."""
        if async_op:
            return self._execute(b"FLUSHDB", b"ASYNC", convert=ok)
        return self._execute(b"FLUSHDB", convert=ok)

    def info(self, section="default"):
        """Server information as {section: {key: value or {k: v}}}."""
        if not section:
            raise ValueError("invalid section")
        return self._execute(b"INFO", section, encoding="utf-8", convert=_parse_info)

    def lastsave(self):
        """UNIX time of the last successful save to disk."""
        return self._execute(b"LASTSAVE")

    def monitor(self):
        """Listen for every request received by the server (not implemented)."""
        raise NotImplementedError("monitor is not implemented")

    def role(self):
        """The replication role: MasterInfo, SlaveInfo or SentinelInfo."""
        return self._execute(b"ROLE", encoding="utf-8", convert=_parse_role)

    def save(self):
        """Save the dataset to disk synchronously."""
        return self._execute(b"SAVE")

    def shutdown(self, save=None):
        """Shut the server down (SHUTDOWN_SAVE / SHUTDOWN_NOSAVE force or skip saving)."""
        if save is self.SHUTDOWN_SAVE:
            return self._execute(b"SHUTDOWN", b"SAVE")
        if save is self.SHUTDOWN_NOSAVE:
            return self._execute(b"SHUTDOWN", b"NOSAVE")
        return self._execute(b"SHUTDOWN")

    def slaveof(self, host=None, port=None):
        """Replicate from host:port; with no host (None), stop replicating (SLAVEOF NO ONE)."""
        if host is None and port is None:
            return self._execute(b"SLAVEOF", b"NO", b"ONE")
        return self._execute(b"SLAVEOF", host, port)

    def slowlog_get(self, length=None):
        """Entries of the slow queries log (the latest length ones)."""
        if length is None:
            return self._execute(b"SLOWLOG", b"GET")
        if not isinstance(length, int):
            raise TypeError(f"length must be int or None, not {type(length).__name__}")
        return self._execute(b"SLOWLOG", b"GET", length)

    def slowlog_len(self, length=None):
        """Length of the slow queries log (the argument is ignored)."""
        return self._execute(b"SLOWLOG", b"LEN")

    def slowlog_reset(self):
        """Empty the slow queries log."""
        return self._execute(b"SLOWLOG", b"RESET", convert=ok)

    def sync(self):
        """Start replicating to this connection (internal replication command)."""
        return self._execute(b"SYNC")

    def time(self):
        """Server time as float seconds since the epoch."""
        return self._execute(b"TIME", convert=_to_time)
