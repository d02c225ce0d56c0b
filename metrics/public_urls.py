"""Metrics' pages outside any organization's URL: the one-click links in emails and the calendar
feed, both opened by a token (included at the site's root by ``bizops/urls.py``)."""

from django.urls import path

from .views.exchange import calendar_feed
from .views.links import action_link

app_name = "metrics_public"

urlpatterns = [
    path("act/<str:token>/", action_link, name="action_link"),
    path("ical/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
