"""Django's Redis cache, keeping its Redis clients instead of making one per call.

``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the shared connection pool on
every operation (~60 µs of Python, a third of a session read). The client is thread-safe and holds
no connection of its own, so one per pool does.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)  # random among replicas for reads
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's _get_connection_pool, for this index
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client
