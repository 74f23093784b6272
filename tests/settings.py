import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "not-secret-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver", "other.example"]
ROOT_URLCONF = "tests.urls"
USE_TZ = True
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "tests.testapp",
    "wagtail_offline",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.users",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",  # The worker backend of the app-process tests (settings_processes.py).
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "tests.in_flight.InFlightRequestsMiddleware",
    "tests.server_faults.ServerFaultsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Files, never ":memory:", not even before the test database exists: a live server
# started first would share one in-memory connection between its request threads and the
# test, which breaks (even crashes Python) when the worker precaches pages concurrently.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "WAGTAIL_OFFLINE_TEST_DB",
            os.path.join(
                tempfile.gettempdir(), f"wagtail-offline-unused-{os.getpid()}.sqlite3"
            ),
        ),
        "TEST": {
            "NAME": os.path.join(
                tempfile.gettempdir(), f"wagtail-offline-tests-{os.getpid()}.sqlite3"
            )
        },
        # IMMEDIATE: a transaction that reads and then writes waits for the write lock
        # instead of failing with "database is locked" when threads publish at once.
        "OPTIONS": {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }
}


def postgres_database(url):
    """Django's settings for a postgresql://user[:password]@host[:port]/name URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise ValueError(
            f"WAGTAIL_OFFLINE_TEST_POSTGRES is not a PostgreSQL URL: {url}"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.strip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


# scripts/postgres.sh starts a throwaway server and prints this URL; pytest-xdist workers each
# get a test database of their own (test_NAME_gw0, ...).
if os.environ.get("WAGTAIL_OFFLINE_TEST_POSTGRES"):
    DATABASES = {
        "default": postgres_database(os.environ["WAGTAIL_OFFLINE_TEST_POSTGRES"])
    }

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static-collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("WAGTAIL_OFFLINE_TEST_MEDIA", str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WAGTAIL_SITE_NAME = "Offline tests"
WAGTAILADMIN_BASE_URL = "http://localhost"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WAGTAIL_OFFLINE_NETWORK_TIMEOUT = 3
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
