"""The demo trail guide. Development settings only: DEBUG on, SQLite, a throwaway secret."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the database and uploaded media live; CI points it at an empty folder.
DATA_DIR = Path(os.environ.get("SANDBOX_DATA_DIR", BASE_DIR))

SECRET_KEY = "sandbox-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "trails",
    "wagtail_offline",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

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
                "wagtail.contrib.settings.context_processors.settings",
            ]
        },
    }
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

WAGTAIL_SITE_NAME = "Fell Trails"
# The admin's avatars are drawn locally: the demo asks no other site for anything.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = "http://localhost:8000"

# Rebuilds run right after the publish commits; a real site would use a worker backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Password-protected pages ask for the password in the guide's own layout.
WAGTAIL_PASSWORD_REQUIRED_TEMPLATE = "trails/password_required.html"

# Reports sent through "Report a path problem" are printed in the server's log, not mailed.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# The offline listing, the built-in fallback and the queued-form page wear the guide's look.
WAGTAIL_OFFLINE_BASE_TEMPLATE = "trails/base.html"
