"""Settings for the test suite: the base settings, with fast password hashing and a key of its own."""

from . import *  # noqa: F403
from . import ALLOWED_HOSTS

# Signs the test runs' sessions and links only; no deployment reads this module.
SECRET_KEY = "test-suite-only-key-2b7f4c1e9d8a6f3b5c0e7a9d1f4b8c2e6a0d3f7b9c5e1a8d4f2b6c0e3a7d9f1b5c8"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_AUTOREFRESH = True
WEBHOOKS_ALLOW_PRIVATE = True  # the tests post to a receiver on loopback
