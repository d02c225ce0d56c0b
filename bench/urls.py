"""The app's URLs plus the framework floor: a bare view returning a small JSON object."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bizops.urls import urlpatterns as app_urlpatterns

FLOOR_PATH = "/__bench__/floor/"


def framework_floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "service": "bizops", "version": 1})


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", framework_floor, name="bench_floor"), *app_urlpatterns]
