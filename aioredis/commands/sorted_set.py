"""Sorted set commands."""

from ..util import _NOTSET, encode_command
from ._convert import _QUEUED, _num, to_num
from .generic import _scan_options, _scan_pages

__all__ = ["SortedSetCommandsMixin"]

_INF = float("inf")


# ---------------------------------------------------------------------------
# reply converters (run by the C protocol when the reply arrives)
# ---------------------------------------------------------------------------


def _with_scores(reply):
    """[m1, s1, m2, s2] -> [(m1, num(s1)), (m2, num(s2))]; QUEUED passes through."""
    if reply in _QUEUED:
        return reply
    it = iter(reply)
    return [(member, _num(score)) for member, score in zip(it, it)]


def _zscan_reply(reply):
    """[cursor, [m1, s1, ...]] -> (int(cursor), [(m1, num(s1)), ...])."""
    if reply in _QUEUED:
        return reply
    cursor, items = reply
    return int(cursor), _with_scores(items)


# ---------------------------------------------------------------------------
# argument helpers (all raise before anything is sent)
# ---------------------------------------------------------------------------


def _check_int(value, name):
    if not isinstance(value, int):
        raise TypeError(f"{name} argument must be int, not {type(value).__name__}")


def _check_number(value, name):
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name} argument must be int or float, not {type(value).__name__}")


def _check_bytes(value, name):
    if not isinstance(value, bytes):
        raise TypeError(f"{name} argument must be bytes, not {type(value).__name__}")


def _limit(offset, count):
    """The LIMIT arguments: both offset and count, or neither."""
    if (offset is None) != (count is None):
        raise TypeError("offset and count must both be specified")
    if offset is None:
        return ()
    _check_int(offset, "offset")
    _check_int(count, "count")
    return (b"LIMIT", offset, count)


def _lex_bounds(min, max, include_min, include_max):
    """Check lex bounds (bytes) and add the '[' / '(' prefix to non-infinite ones."""
    _check_bytes(min, "min")
    _check_bytes(max, "max")
    if min != b"-":
        min = (b"[" if include_min else b"(") + min
    if max != b"+":
        max = (b"[" if include_max else b"(") + max
    return min, max


class SortedSetCommandsMixin:
    """Sorted set commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def _score_bounds(self, min, max, exclude):
        """Check score bounds and apply ``exclude`` ('(' prefix) by identity."""
        _check_number(min, "min")
        _check_number(max, "max")
        if exclude is self.ZSET_EXCLUDE_MIN or exclude is self.ZSET_EXCLUDE_BOTH:
            min = f"({min}"
        if exclude is self.ZSET_EXCLUDE_MAX or exclude is self.ZSET_EXCLUDE_BOTH:
            max = f"({max}"
        return min, max

    def _range(self, command, key, first, last, withscores, limit, encoding):
        """``command key first last [WITHSCORES] [LIMIT offset count]``;
        (member, score) pairs with withscores."""
        if withscores:
            return self._execute(
                command, key, first, last, b"WITHSCORES", *limit, encoding=encoding, convert=_with_scores
            )
        return self._execute(command, key, first, last, *limit, encoding=encoding)

    def _store_args(self, keys, with_weights, aggregate):
        """numkeys, keys, [WEIGHTS ...] and [AGGREGATE ...] for Z*STORE."""
        args = [len(keys)]
        if with_weights:
            if not all(isinstance(item, (tuple, list)) for item in keys):
                raise AssertionError("All key arguments must be (key, weight) tuples")
            weights = [b"WEIGHTS"]
            for key, weight in keys:
                args.append(key)
                weights.append(weight)
            args.extend(weights)
        else:
            args.extend(keys)
        if aggregate is self.ZSET_AGGREGATE_SUM:
            args += (b"AGGREGATE", b"SUM")
        elif aggregate is self.ZSET_AGGREGATE_MAX:
            args += (b"AGGREGATE", b"MAX")
        elif aggregate is self.ZSET_AGGREGATE_MIN:
            args += (b"AGGREGATE", b"MIN")
        return args

    def zadd(self, key, score, member, *pairs, exist=None, changed=False, incr=False):
        """Add members with scores to a sorted set, or update their scores."""
        _check_number(score, "score")
        if len(pairs) % 2:
            raise TypeError("length of pairs must be even number")
        for pair_score in pairs[::2]:
            if not isinstance(pair_score, (int, float)):
                raise TypeError("all scores must be int or float")
        args = []
        if exist is self.ZSET_IF_EXIST:
            args.append(b"XX")
        elif exist is self.ZSET_IF_NOT_EXIST:
            args.append(b"NX")
        if changed:
            args.append(b"CH")
        if incr:
            if pairs:
                raise ValueError("only one score-member pair can be specified with incr")
            args.append(b"INCR")
            return self._execute(b"ZADD", key, *args, score, member, convert=to_num)
        return self._execute(b"ZADD", key, *args, score, member, *pairs)

    def zcard(self, key):
        """Get the number of members in a sorted set."""
        return self._execute(b"ZCARD", key)

    def zcount(self, key, min=-_INF, max=_INF, *, exclude=None):
        """Count the members of a sorted set with scores between min and max."""
        _check_number(min, "min")
        _check_number(max, "max")
        if min > max:
            raise ValueError("min could not be greater than max")
        return self._execute(b"ZCOUNT", key, *self._score_bounds(min, max, exclude))

    def zincrby(self, key, increment, member):
        """Increment the score of a member; the new score (int or float)."""
        _check_number(increment, "increment")
        return self._execute(b"ZINCRBY", key, increment, member, convert=to_num)

    def zinterstore(self, destkey, key, *keys, with_weights=False, aggregate=None):
        """Intersect sorted sets into destkey; keys are (key, weight) pairs with with_weights."""
        args = self._store_args((key,) + keys, with_weights, aggregate)
        return self._execute(b"ZINTERSTORE", destkey, *args)

    def zlexcount(self, key, min=b"-", max=b"+", include_min=True, include_max=True):
        """Count the members of a sorted set between two lexicographical bounds."""
        min, max = _lex_bounds(min, max, include_min, include_max)
        return self._execute(b"ZLEXCOUNT", key, min, max)

    def zrange(self, key, start=0, stop=-1, withscores=False, encoding=_NOTSET):
        """Members of a sorted set by index; (member, score) pairs with withscores."""
        _check_int(start, "start")
        _check_int(stop, "stop")
        return self._range(b"ZRANGE", key, start, stop, withscores, (), encoding)

    def zrangebylex(
        self,
        key,
        min=b"-",
        max=b"+",
        include_min=True,
        include_max=True,
        offset=None,
        count=None,
        encoding=_NOTSET,
    ):
        """Members of a sorted set between two lexicographical bounds."""
        min, max = _lex_bounds(min, max, include_min, include_max)
        return self._range(b"ZRANGEBYLEX", key, min, max, False, _limit(offset, count), encoding)

    def zrangebyscore(
        self,
        key,
        min=-_INF,
        max=_INF,
        withscores=False,
        offset=None,
        count=None,
        *,
        exclude=None,
        encoding=_NOTSET,
    ):
        """Members of a sorted set with scores between min and max, lowest first."""
        min, max = self._score_bounds(min, max, exclude)
        return self._range(b"ZRANGEBYSCORE", key, min, max, withscores, _limit(offset, count), encoding)

    def zrank(self, key, member):
        """Index of a member in a sorted set (lowest score first), or None."""
        return self._execute(b"ZRANK", key, member)

    def zrem(self, key, member, *members):
        """Remove members from a sorted set; the number removed."""
        return self._execute(b"ZREM", key, member, *members)

    def zremrangebylex(self, key, min=b"-", max=b"+", include_min=True, include_max=True):
        """Remove the members between two lexicographical bounds; the number removed."""
        min, max = _lex_bounds(min, max, include_min, include_max)
        return self._execute(b"ZREMRANGEBYLEX", key, min, max)

    def zremrangebyrank(self, key, start, stop):
        """Remove the members within a range of indexes; the number removed."""
        _check_int(start, "start")
        _check_int(stop, "stop")
        return self._execute(b"ZREMRANGEBYRANK", key, start, stop)

    def zremrangebyscore(self, key, min=-_INF, max=_INF, *, exclude=None):
        """Remove the members with scores between min and max; the number removed."""
        min, max = self._score_bounds(min, max, exclude)
        return self._execute(b"ZREMRANGEBYSCORE", key, min, max)

    def zrevrange(self, key, start, stop, withscores=False, encoding=_NOTSET):
        """Members of a sorted set by index, highest score first."""
        _check_int(start, "start")
        _check_int(stop, "stop")
        return self._range(b"ZREVRANGE", key, start, stop, withscores, (), encoding)

    def zrevrangebylex(
        self,
        key,
        min=b"-",
        max=b"+",
        include_min=True,
        include_max=True,
        offset=None,
        count=None,
        encoding=_NOTSET,
    ):
        """Members between two lexicographical bounds, in reverse order (max is sent first)."""
        min, max = _lex_bounds(min, max, include_min, include_max)
        return self._range(b"ZREVRANGEBYLEX", key, max, min, False, _limit(offset, count), encoding)

    def zrevrangebyscore(
        self,
        key,
        max=_INF,
        min=-_INF,
        *,
        exclude=None,
        withscores=False,
        offset=None,
        count=None,
        encoding=_NOTSET,
    ):
        """Members with scores between max and min, highest first (max is sent first)."""
        min, max = self._score_bounds(min, max, exclude)
        return self._range(b"ZREVRANGEBYSCORE", key, max, min, withscores, _limit(offset, count), encoding)

    def zrevrank(self, key, member):
        """Index of a member in a sorted set (highest score first), or None."""
        return self._execute(b"ZREVRANK", key, member)

    def zscore(self, key, member):
        """Score of a member (int or float), or None."""
        return self._execute(b"ZSCORE", key, member, convert=to_num)

    def zunionstore(self, destkey, key, *keys, with_weights=False, aggregate=None):
        """Union of sorted sets into destkey; keys are (key, weight) pairs with with_weights."""
        args = self._store_args((key,) + keys, with_weights, aggregate)
        return self._execute(b"ZUNIONSTORE", destkey, *args)

    def zscan(self, key, cursor=0, match=None, count=None):
        """Incrementally iterate a sorted set: (next cursor, [(member, score), ...])."""
        return self._execute(b"ZSCAN", key, cursor, *_scan_options(match, count), convert=_zscan_reply)

    def izscan(self, key, *, match=None, count=None):
        """Async iterator of (member, score) tuples, paging through ZSCAN until cursor 0."""
        encode_command(b"ZSCAN", key, 0, *_scan_options(match, count))  # TypeError now
        return _scan_pages(lambda cursor: self.zscan(key, cursor, match=match, count=count))

    def zpopmin(self, key, count=None, *, encoding=_NOTSET):
        """Remove and return the lowest-scored members: [member, score, ...]."""
        if count is None:
            return self._execute(b"ZPOPMIN", key, encoding=encoding)
        _check_int(count, "count")
        return self._execute(b"ZPOPMIN", key, count, encoding=encoding)

    def zpopmax(self, key, count=None, *, encoding=_NOTSET):
        """Remove and return the highest-scored members: [member, score, ...]."""
        if count is None:
            return self._execute(b"ZPOPMAX", key, encoding=encoding)
        _check_int(count, "count")
        return self._execute(b"ZPOPMAX", key, count, encoding=encoding)

    def bzpopmin(self, key, *keys, timeout=0, encoding=_NOTSET):
        """Blocking ZPOPMIN over keys: [key, member, score], or None on timeout."""
        _check_timeout(timeout)
        return self._execute(b"BZPOPMIN", key, *keys, timeout, encoding=encoding)

    def bzpopmax(self, key, *keys, timeout=0, encoding=_NOTSET):
        """Blocking ZPOPMAX over keys: [key, member, score], or None on timeout."""
        _check_timeout(timeout)
        return self._execute(b"BZPOPMAX", key, *keys, timeout, encoding=encoding)


def _check_timeout(timeout):
    _check_int(timeout, "timeout")
    if timeout < 0:
        raise ValueError(f"timeout must be greater or equal to 0, got {timeout}")
