from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from tests.urls import urlpatterns as test_urlpatterns


def serve_same_bytes(request, path):
    """A static file with the bytes of a plugin response: the benchmarks' baseline."""
    return serve(request, path, document_root=settings.BENCH_STATIC_ROOT)


urlpatterns = [
    re_path(r"^bench-static/(?P<path>.*)$", serve_same_bytes),
    *test_urlpatterns,
]
