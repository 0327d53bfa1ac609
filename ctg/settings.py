"""One settings module, driven by environment variables.

SQLite by default; PostgreSQL (production, tests in CI) when DATABASE_URL says so.
CTG_ENV=production turns on the safe defaults and refuses the development secret key.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


CTG_ENV = os.environ.get("CTG_ENV", "development")
PRODUCTION = CTG_ENV == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY doit être défini en production.")
    SECRET_KEY = "development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "csp",
    "partners",
    "axes",
    "actions",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "ctg.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ctg.middleware.SubmitOnceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ctg.urls"
WSGI_APPLICATION = "ctg.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections in production: opening one per request costs a signed-in page about
# three quarters of its throughput (bench: 159 against 605 req/s). Health checks drop a connection
# the database closed (restart, idle timeout) instead of failing the next request.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The run command serves several threads and a worker on one file: WAL lets readers go on
    # while one writes, IMMEDIATE takes the write lock when the transaction starts (so SQLite
    # waits for it, up to busy_timeout, instead of failing at the first write: "database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: PostgreSQL compiles any query its planner costs above jit_above_cost,
    # and the CAF overview's figures over 20,000 fiches (a few ms of work) spent ~55 ms compiling
    # (bench/README.md, scale.py). A web page's queries are short. Added to the URL's own
    # options (?options=-c statement_timeout=…), which keep the last word on jit too.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = " ".join(filter(None, ["-c jit=off", _pg_options.get("options", "")]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Who runs this installation, for the mentions légales, the personal-data page and the
# accessibility statement (templates/legal/). Neutral defaults until the operator sets them.
CTG_OPERATOR_NAME = os.environ.get("CTG_OPERATOR_NAME", "L'organisme qui exploite cette installation")
CTG_OPERATOR_ADDRESS = os.environ.get("CTG_OPERATOR_ADDRESS", "Adresse à préciser par l'exploitant")
CTG_OPERATOR_EMAIL = os.environ.get("CTG_OPERATOR_EMAIL", "")
CTG_PUBLICATION_DIRECTOR = os.environ.get("CTG_PUBLICATION_DIRECTOR", "Le représentant de l'exploitant")
CTG_DPO_EMAIL = os.environ.get("CTG_DPO_EMAIL", "")
CTG_HOST_NAME = os.environ.get("CTG_HOST_NAME", "Hébergeur à préciser par l'exploitant")
CTG_HOST_ADDRESS = os.environ.get("CTG_HOST_ADDRESS", "")
CTG_ACCESSIBILITY_AUDIT_DATE = os.environ.get("CTG_ACCESSIBILITY_AUDIT_DATE", "")

LANGUAGE_CODE = "fr-fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Documents attached to fiches and meetings (reporting.documents): on the file system under
# MEDIA_ROOT by default, never served by the web server (downloads go through a view that checks
# who asks); S3-compatible object storage when DOCUMENTS_S3_BUCKET is set (django-storages,
# `pip install "django-storages[s3]"`, the optional extra "s3").
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
DOCUMENT_MAX_SIZE_MB = env_int("DOCUMENT_MAX_SIZE_MB", 10)
DOCUMENTS_S3_BUCKET = os.environ.get("DOCUMENTS_S3_BUCKET", "")
if DOCUMENTS_S3_BUCKET:
    _DOCUMENTS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENTS_S3_BUCKET,
            "endpoint_url": os.environ.get("DOCUMENTS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DOCUMENTS_S3_REGION") or None,
            "access_key": os.environ.get("DOCUMENTS_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("DOCUMENTS_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("DOCUMENTS_S3_PREFIX", ""),
            # Private objects, read back by the app only (the download view streams them).
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _DOCUMENTS_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _DOCUMENTS_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "ctg.staticfiles.CompressedOnceManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "suivi-ctg@localhost")
# The site as reminder emails link to it (read outside any request): https://ctg.example.fr
CTG_BASE_URL = os.environ.get("CTG_BASE_URL", "http://127.0.0.1:8000")

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS. Production sits behind a reverse proxy that ends TLS and sets X-Forwarded-Proto (it must
# overwrite any value the client sent); SECURE_PROXY_SSL_HEADER="" turns that trust off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers probe the health endpoint over plain HTTP, from inside.
SECURE_REDIRECT_EXEMPT = [r"^sante/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
_proxy_header = os.environ.get(
    "SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO,https" if PRODUCTION else ""
)
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header.split(",", 1)) if _proxy_header else None
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): our own files only, nothing inline. Templates carry no
# <script> without src, no style= attribute and no on*= / hx-on handler; htmx is told not to
# inject its indicator <style> (htmx-config in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Features the app never uses, refused to any script (ctg.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()"
)

# Logs go to stdout: systemd's journal (or the container runtime) keeps them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}
    },
    # WARNING by default: WeasyPrint narrates every step of every PDF at INFO.
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Request errors (django.request) and the worker's task log.
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django_tasks": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}

# Errors to Sentry, only when an address is given (the SDK is not even imported otherwise).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=CTG_ENV,
        send_default_pii=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# Demo accounts (well-known passwords) may only be created outside production.
DEMO_ACCOUNTS_ALLOWED = not PRODUCTION

# Background tasks (the full PDF reports): stored in the database, run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# /sante/ answers 503 when a task has waited longer than this (seconds): no worker takes the queue.
HEALTH_MAX_TASK_WAIT = env_int("HEALTH_MAX_TASK_WAIT", 300)

# Sign-in throttling (partners.signin): an account is locked after SIGNIN_MAX_FAILURES failures
# within SIGNIN_LOCKOUT_MINUTES, for that long; an address after SIGNIN_IP_MAX_FAILURES (higher:
# a whole office may share one). Behind the proxy, the visitor's address is in CLIENT_IP_HEADER.
SIGNIN_MAX_FAILURES = env_int("SIGNIN_MAX_FAILURES", 5)
SIGNIN_IP_MAX_FAILURES = env_int("SIGNIN_IP_MAX_FAILURES", 20)
SIGNIN_LOCKOUT_MINUTES = env_int("SIGNIN_LOCKOUT_MINUTES", 15)
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "HTTP_X_FORWARDED_FOR" if PRODUCTION else "")

# Invitation and password-reset links stay valid this long (seconds; Django's default: 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
