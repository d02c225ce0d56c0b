"""Settings for running the app on one machine (``make run``, ``make dev``): the base settings, plus a
secret key of this checkout's own.

Debug stays off unless ``DJANGO_DEBUG=true`` (``make dev`` sets it), so ``make run`` shows what people
see: the styled error pages, static files served by whitenoise from ``collectstatic``'s folder. Emailed
links follow the port the web server listens on (``PORT``, ``BIZOPS_HOST``; see the base settings).
"""

import os
import secrets
from urllib.parse import urlsplit

from . import *  # noqa: F403
from . import ALLOWED_HOSTS, SITE_URL, VAR_DIR, env


def checkout_secret_key(path) -> str:
    """The key in ``path``, made on first use: random, readable by this user only, never committed
    (``var/`` is ignored), so no two checkouts share one and no key is published with the code."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of `make run` made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as key_file:
        key_file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or checkout_secret_key(VAR_DIR / "secret_key")

# The host the emailed links name must be one the app answers to (e.g. the machine's name when
# BIZOPS_HOST=0.0.0.0).
_site_host = urlsplit(SITE_URL).hostname or ""
if _site_host and _site_host not in ALLOWED_HOSTS and f"[{_site_host}]" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, _site_host]
