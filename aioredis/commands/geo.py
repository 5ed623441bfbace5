"""Geo commands.

Positions come back as :class:`GeoPoint` ``(longitude, latitude)`` floats.
GEORADIUS, GEORADIUSBYMEMBER and GEOSEARCH return a list of member names, or,
when any of ``with_dist`` / ``with_hash`` / ``with_coord`` is set, a list of
:class:`GeoMember` ``(member, dist, hash, coord)`` whose fields not asked for
are None.
"""

from collections import namedtuple
from functools import partial

from ..util import _NOTSET
from ._convert import _QUEUED, to_float

__all__ = ["GeoCommandsMixin", "GeoPoint", "GeoMember"]

GeoPoint = namedtuple("GeoPoint", ("longitude", "latitude"))
GeoPoint.__doc__ = "A position: longitude and latitude as floats."

GeoMember = namedtuple("GeoMember", ("member", "dist", "hash", "coord"))
GeoMember.__doc__ = (
    "A member found by a radius or box search: its name, distance (float), geohash (int) and coordinates "
    "(GeoPoint); the fields that were not asked for are None."
)

_UNITS = ("m", "km", "mi", "ft")
_SORTS = ("ASC", "DESC")


# ---------------------------------------------------------------------------
# reply converters (run by the C protocol when the reply arrives)
# ---------------------------------------------------------------------------


def _point(pair):
    if pair is None:
        return None
    longitude, latitude = pair
    return GeoPoint(float(longitude), float(latitude))


def _points(reply):
    """GEOPOS reply -> [GeoPoint or None, ...]."""
    if reply in _QUEUED:
        return reply
    return [_point(pair) for pair in reply]


def _members(with_dist, with_hash, with_coord, reply):
    """Rows [name, dist?, hash?, [lon, lat]?] -> [GeoMember, ...]."""
    if reply in _QUEUED:
        return reply
    result = []
    for row in reply:
        it = iter(row)
        member = next(it)
        dist = float(next(it)) if with_dist else None
        hash_ = int(next(it)) if with_hash else None
        coord = _point(next(it)) if with_coord else None
        result.append(GeoMember(member, dist, hash_, coord))
    return result


# ---------------------------------------------------------------------------
# argument helpers (all raise before anything is sent)
# ---------------------------------------------------------------------------


def _check_unit(unit):
    if unit not in _UNITS:
        raise ValueError(f"unit argument must be 'm', 'km', 'mi' or 'ft', not {unit!r}")


def _check_number(value, name):
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name} argument must be int or float, not {type(value).__name__}")


def _options(with_dist, with_hash, with_coord, count, sort, any=False):
    """[WITHDIST] [WITHHASH] [WITHCOORD] [COUNT n [ANY]] [ASC|DESC], and the converter."""
    args = []
    if with_dist:
        args.append(b"WITHDIST")
    if with_hash:
        args.append(b"WITHHASH")
    if with_coord:
        args.append(b"WITHCOORD")
    if count:
        if not isinstance(count, int):
            raise TypeError(f"count argument must be int, not {type(count).__name__}")
        args += (b"COUNT", count)
        if any:
            args.append(b"ANY")
    elif any:
        raise ValueError("any argument needs count")
    if sort:
        if sort not in _SORTS:
            raise ValueError(f"sort argument must be 'ASC' or 'DESC', not {sort!r}")
        args.append(sort)
    if with_dist or with_hash or with_coord:
        convert = partial(_members, bool(with_dist), bool(with_hash), bool(with_coord))
    else:
        convert = None
    return args, convert


class GeoCommandsMixin:
    """Geo commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def geoadd(self, key, longitude, latitude, member, *args):
        """Add members at positions (longitude, latitude, member, ...) to a geo index."""
        if len(args) % 3:
            raise TypeError("args must be longitude, latitude, member triples")
        return self._execute(b"GEOADD", key, longitude, latitude, member, *args)

    def geohash(self, key, member, *members, encoding=_NOTSET):
        """Get the geohash strings of members of a geo index."""
        return self._execute(b"GEOHASH", key, member, *members, encoding=encoding)

    def geopos(self, key, member, *members, encoding=_NOTSET):
        """Get the positions of members as GeoPoint (None for a missing member)."""
        return self._execute(b"GEOPOS", key, member, *members, encoding=encoding, convert=_points)

    def geodist(self, key, member1, member2, unit="m"):
        """Get the distance between two members as a float (None if one is missing)."""
        _check_unit(unit)
        return self._execute(b"GEODIST", key, member1, member2, unit, convert=to_float)

    def georadius(
        self,
        key,
        longitude,
        latitude,
        radius,
        unit="m",
        *,
        with_dist=False,
        with_hash=False,
        with_coord=False,
        count=None,
        sort=None,
        encoding=_NOTSET,
    ):
        """Find the members within radius of a position."""
        return self._georadius(
            b"GEORADIUS", key, (longitude, latitude), radius, unit,
            with_dist, with_hash, with_coord, count, sort, encoding,
        )

    def georadiusbymember(
        self,
        key,
        member,
        radius,
        unit="m",
        *,
        with_dist=False,
        with_hash=False,
        with_coord=False,
        count=None,
        sort=None,
        encoding=_NOTSET,
    ):
        """Find the members within radius of a member's position."""
        return self._georadius(
            b"GEORADIUSBYMEMBER", key, (member,), radius, unit,
            with_dist, with_hash, with_coord, count, sort, encoding,
        )

    def _georadius(self, command, key, center, radius, unit, with_dist, with_hash, with_coord, count, sort, encoding):
        """GEORADIUS (``center`` = (longitude, latitude)) or GEORADIUSBYMEMBER (``center`` = (member,))."""
        _check_unit(unit)
        _check_number(radius, "radius")
        args, convert = _options(with_dist, with_hash, with_coord, count, sort)
        return self._execute(command, key, *center, radius, unit, *args, encoding=encoding, convert=convert)

    def geosearch(
        self,
        key,
        *,
        member=None,
        longitude=None,
        latitude=None,
        radius=None,
        width=None,
        height=None,
        unit="m",
        with_dist=False,
        with_hash=False,
        with_coord=False,
        count=None,
        any=False,
        sort=None,
        encoding=_NOTSET,
    ):
        """Find the members within a radius or a box around a member or a position (Redis 6.2+)."""
        if member is not None:
            if longitude is not None or latitude is not None:
                raise ValueError("give either member or longitude and latitude, not both")
            origin = (b"FROMMEMBER", member)
        elif longitude is None or latitude is None:
            raise ValueError("give either member or both longitude and latitude")
        else:
            origin = (b"FROMLONLAT", longitude, latitude)
        if radius is not None:
            if width is not None or height is not None:
                raise ValueError("give either radius or width and height, not both")
            _check_number(radius, "radius")
            shape = (b"BYRADIUS", radius)
        elif width is None or height is None:
            raise ValueError("give either radius or both width and height")
        else:
            _check_number(width, "width")
            _check_number(height, "height")
            shape = (b"BYBOX", width, height)
        _check_unit(unit)
        args, convert = _options(with_dist, with_hash, with_coord, count, sort, any)
        return self._execute(b"GEOSEARCH", key, *origin, *shape, unit, *args, encoding=encoding, convert=convert)
