"""The ASGI application. Production settings unless DJANGO_SETTINGS_MODULE names others (make run names
bizops.settings.local): a server started without it refuses to run without a secret key and hosts."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizops.settings.production")
application = get_asgi_application()
