import os

from celery import Celery

# Production unless told otherwise, like wsgi.py and asgi.py: importing the bizops package runs this
# first, so its default is theirs. make run and the tests name their own settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizops.settings.production")

app = Celery("bizops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
