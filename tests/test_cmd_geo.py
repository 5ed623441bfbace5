"""Geo commands (GeoCommandsMixin) against a real redis-server."""

import pytest
from helpers import assert_still_in_sync, client, key_maker, sent

from aioredis import ReplyError
from aioredis.commands.geo import GeoMember, GeoPoint

# Redis' own documentation example
PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)
PALERMO_HASH = b"sqc8b49rny0"
CATANIA_HASH = b"sqdtr74hyu0"
PALERMO_SCORE = 3479099956230698
CATANIA_SCORE = 3479447370796909


key = key_maker("aioredis-test:geo", "g")


async def sicily(redis):
    k = key()
    assert await redis.geoadd(k, *PALERMO, "Palermo", *CATANIA, "Catania") == 2
    return k


def close_to(point, expected, eps=1e-5):
    return (
        isinstance(point, GeoPoint)
        and abs(point.longitude - expected[0]) < eps
        and abs(point.latitude - expected[1]) < eps
    )


def test_namedtuples():
    assert GeoPoint._fields == ("longitude", "latitude")
    assert GeoMember._fields == ("member", "dist", "hash", "coord")


# ---------------------------------------------------------------------------
# geoadd / geohash / geopos / geodist
# ---------------------------------------------------------------------------


async def test_geoadd(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.geoadd(k, *PALERMO, "Palermo") == 1
        assert await redis.geoadd(k, *PALERMO, "Palermo", *CATANIA, "Catania") == 1
        assert await redis.execute(b"ZSCORE", k, "Catania") == str(CATANIA_SCORE).encode()
        with pytest.raises(ReplyError):
            await redis.geoadd(k, 200, 100, "out of range")
        assert await redis.execute(b"ZCARD", k) == 2


async def test_geoadd_validation(redis_server):
    async with client(redis_server) as redis:
        k = key()
        for extra in ((1.0,), (1.0, 2.0), (1.0, 2.0, "a", 3.0)):
            with pytest.raises(TypeError):
                redis.geoadd(k, *PALERMO, "Palermo", *extra)
        with pytest.raises(TypeError):
            redis.geoadd(k, None, 38.1, "Palermo")
        await assert_still_in_sync(redis)
        assert await redis.execute(b"EXISTS", k) == 0


async def test_geohash(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        assert await redis.geohash(k, "Palermo") == [PALERMO_HASH]
        assert await redis.geohash(k, "Palermo", "Catania", "nowhere") == [PALERMO_HASH, CATANIA_HASH, None]
        assert await redis.geohash(k, "Palermo", "Catania", encoding="utf-8") == [
            PALERMO_HASH.decode(), CATANIA_HASH.decode(),
        ]
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.geohash(k, "Catania") == [CATANIA_HASH.decode()]
        assert await redis.geohash(k, "Catania", encoding=None) == [CATANIA_HASH]


async def test_geopos(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        palermo, catania, missing = await redis.geopos(k, "Palermo", "Catania", "nowhere")
        assert close_to(palermo, PALERMO) and close_to(catania, CATANIA)
        assert type(palermo.longitude) is float
        assert missing is None
        assert await redis.geopos(key("missing"), "Palermo") == [None]
    async with client(redis_server, encoding="utf-8") as redis:
        [catania] = await redis.geopos(k, "Catania")
        assert close_to(catania, CATANIA)
        [catania] = await redis.geopos(k, "Catania", encoding=None)
        assert close_to(catania, CATANIA)


async def test_geodist(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        dist = await redis.geodist(k, "Palermo", "Catania")
        assert type(dist) is float and dist == pytest.approx(166274.1516)
        assert await redis.geodist(k, "Palermo", "Catania", "km") == pytest.approx(166.2742)
        assert await redis.geodist(k, "Palermo", "Catania", "mi") == pytest.approx(103.3182)
        assert await redis.geodist(k, "Palermo", "Catania", "ft") == pytest.approx(545518.8700)
        assert await redis.geodist(k, "Palermo", "Palermo") == 0.0
        assert await redis.geodist(k, "Palermo", "nowhere") is None
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.geodist(k, "Palermo", "Catania", "km") == pytest.approx(166.2742)


async def test_geodist_validation(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        for unit in ("KM", "meters", b"km", None, 1):
            with pytest.raises(ValueError):
                redis.geodist(k, "Palermo", "Catania", unit)
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# georadius / georadiusbymember
# ---------------------------------------------------------------------------


async def test_georadius(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        assert await redis.georadius(k, 15, 37, 200, "km") == [b"Palermo", b"Catania"]
        assert await redis.georadius(k, 15, 37, 100, "km") == [b"Catania"]
        assert await redis.georadius(k, 15, 37, 200_000) == [b"Palermo", b"Catania"]  # metres
        assert await redis.georadius(k, 15, 37, 1.5, "km") == []
        assert await redis.georadius(k, 15, 37, 200, "km", sort="ASC") == [b"Catania", b"Palermo"]
        assert await redis.georadius(k, 15, 37, 200, "km", sort="DESC") == [b"Palermo", b"Catania"]
        assert await redis.georadius(k, 15, 37, 200, "km", count=1, sort="ASC") == [b"Catania"]
        assert await redis.georadius(k, 15, 37, 200, "km", count=0, sort="ASC") == [b"Catania", b"Palermo"]
        assert await redis.georadius(key("missing"), 15, 37, 200, "km") == []
        assert await redis.georadius(k, 15, 37, 200, "km", sort="ASC", encoding="utf-8") == ["Catania", "Palermo"]
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.georadius(k, 15, 37, 200, "km", sort="ASC") == ["Catania", "Palermo"]
        assert await redis.georadius(k, 15, 37, 200, "km", sort="ASC", encoding=None) == [b"Catania", b"Palermo"]


async def test_georadius_with(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        res = await redis.georadius(k, 15, 37, 200, "km", with_dist=True, sort="ASC")
        assert res == [
            GeoMember(b"Catania", pytest.approx(56.4413), None, None),
            GeoMember(b"Palermo", pytest.approx(190.4424), None, None),
        ]
        assert all(type(m) is GeoMember and type(m.dist) is float for m in res)
        res = await redis.georadius(k, 15, 37, 200, "km", with_hash=True, sort="ASC")
        assert res == [GeoMember(b"Catania", None, CATANIA_SCORE, None), GeoMember(b"Palermo", None, PALERMO_SCORE, None)]
        res = await redis.georadius(k, 15, 37, 200, "km", with_coord=True, sort="ASC")
        assert [m.member for m in res] == [b"Catania", b"Palermo"]
        assert res[0].dist is None and res[0].hash is None
        assert close_to(res[0].coord, CATANIA) and close_to(res[1].coord, PALERMO)
        [m] = await redis.georadius(
            k, 15, 37, 200, "km", with_dist=True, with_hash=True, with_coord=True, count=1, sort="DESC"
        )
        assert m.member == b"Palermo" and m.dist == pytest.approx(190.4424) and m.hash == PALERMO_SCORE
        assert close_to(m.coord, PALERMO)
        [m] = await redis.georadius(k, 15, 37, 100, "km", with_dist=True, with_coord=True, encoding="utf-8")
        assert m.member == "Catania" and m.dist == pytest.approx(56.4413) and close_to(m.coord, CATANIA)
    async with client(redis_server, encoding="utf-8") as redis:
        [m] = await redis.georadius(k, 15, 37, 100, "km", with_dist=True, with_hash=True)
        assert m == GeoMember("Catania", pytest.approx(56.4413), CATANIA_SCORE, None)


def test_georadius_wire():
    assert sent(lambda r: r.georadius("k", 15, 37, 200)) == (b"GEORADIUS", "k", 15, 37, 200, "m")
    assert sent(
        lambda r: r.georadius("k", 15, 37, 2.5, "km", with_dist=True, with_hash=True, with_coord=True, count=3, sort="DESC")
    ) == (b"GEORADIUS", "k", 15, 37, 2.5, "km", b"WITHDIST", b"WITHHASH", b"WITHCOORD", b"COUNT", 3, "DESC")
    assert sent(lambda r: r.georadiusbymember("k", "m", 10, "mi", with_coord=True, sort="ASC")) == (
        b"GEORADIUSBYMEMBER", "k", "m", 10, "mi", b"WITHCOORD", "ASC",
    )


async def test_georadius_validation(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        for unit in ("KM", "miles", b"m", None):
            with pytest.raises(ValueError):
                redis.georadius(k, 15, 37, 200, unit)
            with pytest.raises(ValueError):
                redis.georadiusbymember(k, "Palermo", 200, unit)
        for radius in ("200", b"200", None, [200]):
            with pytest.raises(TypeError):
                redis.georadius(k, 15, 37, radius, "km")
            with pytest.raises(TypeError):
                redis.georadiusbymember(k, "Palermo", radius, "km")
        for count in (1.5, "1", b"1"):
            with pytest.raises(TypeError):
                redis.georadius(k, 15, 37, 200, "km", count=count)
            with pytest.raises(TypeError):
                redis.georadiusbymember(k, "Palermo", 200, "km", count=count)
        for sort in ("asc", "up", b"ASC", 1):
            with pytest.raises(ValueError):
                redis.georadius(k, 15, 37, 200, "km", sort=sort)
            with pytest.raises(ValueError):
                redis.georadiusbymember(k, "Palermo", 200, "km", sort=sort)
        await assert_still_in_sync(redis)


async def test_georadiusbymember(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        assert await redis.georadiusbymember(k, "Palermo", 200, "km") == [b"Palermo", b"Catania"]
        assert await redis.georadiusbymember(k, "Palermo", 100, "km") == [b"Palermo"]
        assert await redis.georadiusbymember(k, "Palermo", 200, "km", sort="DESC") == [b"Catania", b"Palermo"]
        assert await redis.georadiusbymember(k, "Palermo", 200, "km", count=1, sort="DESC") == [b"Catania"]
        res = await redis.georadiusbymember(k, "Palermo", 200, "km", with_dist=True, with_hash=True, sort="ASC")
        assert res == [
            GeoMember(b"Palermo", 0.0, PALERMO_SCORE, None),
            GeoMember(b"Catania", pytest.approx(166.2742), CATANIA_SCORE, None),
        ]
        [m] = await redis.georadiusbymember(k, "Catania", 1, "km", with_coord=True, encoding="utf-8")
        assert m.member == "Catania" and close_to(m.coord, CATANIA)
        with pytest.raises(ReplyError):
            await redis.georadiusbymember(k, "nowhere", 200, "km")
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.georadiusbymember(k, "Palermo", 200, "km", sort="ASC") == ["Palermo", "Catania"]


# ---------------------------------------------------------------------------
# geosearch
# ---------------------------------------------------------------------------


async def test_geosearch(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        assert await redis.geosearch(k, longitude=15, latitude=37, radius=200, unit="km") == [b"Palermo", b"Catania"]
        assert await redis.geosearch(k, longitude=15, latitude=37, radius=100, unit="km") == [b"Catania"]
        assert await redis.geosearch(k, member="Palermo", radius=100, unit="km") == [b"Palermo"]
        assert await redis.geosearch(k, member="Palermo", radius=200, unit="km", sort="DESC") == [
            b"Catania", b"Palermo",
        ]
        # a box: Catania is within 400 x 400 km around (15, 37), Palermo also;
        # a 200 km wide box reaches only Catania (Palermo is 142 km west)
        assert await redis.geosearch(k, longitude=15, latitude=37, width=400, height=400, unit="km", sort="ASC") == [
            b"Catania", b"Palermo",
        ]
        assert await redis.geosearch(k, longitude=15, latitude=37, width=200, height=400, unit="km") == [b"Catania"]
        assert await redis.geosearch(k, member="Catania", width=10_000, height=10_000) == [b"Catania"]
        assert await redis.geosearch(k, member="Catania", radius=200, unit="km", count=1, sort="ASC") == [b"Catania"]
        assert len(await redis.geosearch(k, member="Catania", radius=200, unit="km", count=1, any=True)) == 1
        assert await redis.geosearch(key("missing"), longitude=15, latitude=37, radius=1) == []
        with pytest.raises(ReplyError):
            await redis.geosearch(k, member="nowhere", radius=200, unit="km")


async def test_geosearch_with(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        res = await redis.geosearch(
            k, longitude=15, latitude=37, radius=200, unit="km",
            with_dist=True, with_hash=True, with_coord=True, sort="ASC",
        )
        assert [(m.member, m.hash) for m in res] == [(b"Catania", CATANIA_SCORE), (b"Palermo", PALERMO_SCORE)]
        assert [m.dist for m in res] == [pytest.approx(56.4413), pytest.approx(190.4424)]
        assert close_to(res[0].coord, CATANIA) and close_to(res[1].coord, PALERMO)
        res = await redis.geosearch(k, member="Palermo", width=400, height=400, unit="km", with_dist=True, sort="ASC")
        assert res == [GeoMember(b"Palermo", 0.0, None, None), GeoMember(b"Catania", pytest.approx(166.2742), None, None)]
        [m] = await redis.geosearch(k, member="Catania", radius=1, unit="km", with_coord=True, encoding="utf-8")
        assert m.member == "Catania" and m.dist is None and close_to(m.coord, CATANIA)
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.geosearch(k, member="Catania", radius=1, unit="km") == ["Catania"]
        assert await redis.geosearch(k, member="Catania", radius=1, unit="km", encoding=None) == [b"Catania"]


def test_geosearch_wire():
    assert sent(lambda r: r.geosearch("k", member="m", radius=5)) == (
        b"GEOSEARCH", "k", b"FROMMEMBER", "m", b"BYRADIUS", 5, "m",
    )
    assert sent(
        lambda r: r.geosearch(
            "k", longitude=1.5, latitude=2, width=3, height=4.5, unit="ft",
            with_dist=True, with_hash=True, with_coord=True, count=2, any=True, sort="DESC",
        )
    ) == (
        b"GEOSEARCH", "k", b"FROMLONLAT", 1.5, 2, b"BYBOX", 3, 4.5, "ft",
        b"WITHDIST", b"WITHHASH", b"WITHCOORD", b"COUNT", 2, b"ANY", "DESC",
    )


async def test_geosearch_validation(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        value_errors = [
            {"radius": 1},  # no origin
            {"longitude": 15, "radius": 1},  # latitude missing
            {"latitude": 37, "radius": 1},
            {"member": "Palermo", "longitude": 15, "latitude": 37, "radius": 1},  # two origins
            {"member": "Palermo", "latitude": 37, "radius": 1},
            {"member": "Palermo"},  # no shape
            {"member": "Palermo", "width": 1},  # height missing
            {"member": "Palermo", "height": 1},
            {"member": "Palermo", "radius": 1, "width": 1, "height": 1},  # two shapes
            {"member": "Palermo", "radius": 1, "height": 1},
            {"member": "Palermo", "radius": 1, "unit": "KM"},
            {"member": "Palermo", "radius": 1, "sort": "asc"},
            {"member": "Palermo", "radius": 1, "any": True},  # ANY needs COUNT
        ]
        for kwargs in value_errors:
            with pytest.raises(ValueError):
                redis.geosearch(k, **kwargs)
        type_errors = [
            {"member": "Palermo", "radius": "1"},
            {"member": "Palermo", "width": "1", "height": 1},
            {"member": "Palermo", "width": 1, "height": b"1"},
            {"member": "Palermo", "radius": 1, "count": 1.5},
        ]
        for kwargs in type_errors:
            with pytest.raises(TypeError):
                redis.geosearch(k, **kwargs)
        with pytest.raises(TypeError):
            redis.geosearch(k, "Palermo", radius=1)  # keyword-only
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# inside MULTI: the converters let QUEUED through
# ---------------------------------------------------------------------------


async def test_converters_pass_queued(redis_server):
    async with client(redis_server) as redis:
        k = await sicily(redis)
        assert await redis.execute(b"MULTI") == b"OK"
        queued = [
            redis.geopos(k, "Palermo"),
            redis.geodist(k, "Palermo", "Catania"),
            redis.georadius(k, 15, 37, 100, "km", with_dist=True),
            redis.geosearch(k, member="Catania", radius=1, with_coord=True),
        ]
        assert [await fut for fut in queued] == [b"QUEUED"] * len(queued)
        results = await redis.execute(b"EXEC")
        assert len(results) == 4 and results[2] == [[b"Catania", b"56.4413"]]
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.execute(b"MULTI") == "OK"
        assert await redis.geopos(k, "Palermo") == "QUEUED"
        assert await redis.execute(b"DISCARD") == "OK"
