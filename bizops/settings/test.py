"""Settings for the test suite: the base settings, with fast password hashing."""

from . import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_AUTOREFRESH = True
WEBHOOKS_ALLOW_PRIVATE = True  # the tests post to a receiver on loopback
