"""The Redis cache (sessions, rate counts): Django's, with one Redis client per connection pool."""

import pytest
from django.core.cache import caches

from bizops.cache import RedisCache


def test_the_cache_reads_and_writes_through_one_client_per_pool():
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("no Redis configured: the embedded default is the in-memory cache")
    cache.set("bizops-test-key", {"a": 1}, 30)
    assert cache.get("bizops-test-key") == {"a": 1}
    cache.delete("bizops-test-key-n")
    assert cache.add("bizops-test-key-n", 1, 30) and cache.incr("bizops-test-key-n") == 2
    cache.delete_many(["bizops-test-key", "bizops-test-key-n"])
    assert cache.get("bizops-test-key") is None
    client = cache._cache.get_client("x")
    assert cache._cache.get_client("y", write=True) is client  # made once, not per call
    assert client.connection_pool is cache._cache._pools[0]


def test_reads_spread_over_replicas_each_with_its_own_client():
    from bizops.cache import _Client

    client = _Client(["redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14", "redis://127.0.0.1:6379/13"])
    readers = {id(client.get_client("k")) for _ in range(60)}  # random replica 1 or 2, never a KeyError
    assert len(readers) == 2 and client.get_client("k", write=True) is client.get_client(write=True)
    assert set(client._pools) == {0, 1, 2}
