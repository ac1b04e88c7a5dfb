"""Settings for crm_cti, read from the environment (django-environ).

Nothing set gives *embedded mode*: SQLite under ``var/``, the in-memory channel
layer, and Celery tasks run by a worker thread inside the web process (eager in
command-line tools). Setting ``DATABASE_URL`` and ``REDIS_URL`` gives
*distributed mode*: PostgreSQL, ``channels_redis`` and Celery on Redis.
Every variable is documented, with its default, in README.md ("Settings").

Sorted by concern, each value set once: core, database, Redis and the channel layer,
Celery (with the whole beat schedule), telephony, agent pages, RingCentral, security
(keys, the start-up check, TLS, CSP), logging. The tests use ``tests/settings.py``,
which gives this module keys through the environment, as a deployment does.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from crm_cti.keys import deployment_problems, load_or_create_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is a convenience for people running the processes by hand.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- core

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
DISTRIBUTED = bool(DATABASE_URL and REDIS_URL)
RUN_MODE = "distributed" if DISTRIBUTED else "embedded"

# Django's debug pages show tracebacks, local variables and settings to whoever meets an
# error: off unless asked for (``manage.py demo`` asks, for its own processes).
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
APP_PORT = env.int("APP_PORT", default=8000)
# Where `manage.py demo` starts the bundled sandbox.
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8900)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "crm_cti.accounts",
    "crm_cti.crm",
    "crm_cti.telephony",
    "crm_cti.messaging",
    "crm_cti.dashboard",
    "crm_cti.ops",
    "crm_cti.reports",
    # Only for its management commands (rcsandbox, rcsandbox_call, demo); product code
    # never imports it.
    "crm_cti.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An agent whose RingCentral session died reaches no data page until they sign in again.
    "crm_cti.accounts.middleware.NeedsSignInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "crm_cti.urls"
ASGI_APPLICATION = "crm_cti.asgi.application"

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
                # Every page gets `agent` and `needs_signin` (the "sign in again" banner).
                "crm_cti.accounts.context_processors.agent",
                # The nav's count of open follow-ups.
                "crm_cti.messaging.context_processors.followups",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/auth/signin/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# WhiteNoise serves from the finders; an empty root only keeps it from warning on each start.
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files from the app directories without collectstatic in development.
WHITENOISE_USE_FINDERS = True

# --- database

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL through a connection pool per process instead of persistent connections.
# Under ASGI every request runs in a thread of its own, so CONN_MAX_AGE connections are
# never reused: they pile up until PostgreSQL refuses clients ("too many clients already")
# at a few dozen webhooks a second. Django's psycopg pool takes each connection back after
# the request or task. DB_POOL_MAX_SIZE=0 goes back to plain connections (DB_CONN_MAX_AGE).
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=8)
# How long a request waits for a pooled PostgreSQL connection before failing.
DB_POOL_TIMEOUT_SECONDS = env.float("DB_POOL_TIMEOUT_SECONDS", default=2.0)

DATABASES = {
    "default": env.db_url_config(DATABASE_URL)
    if DATABASE_URL
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "crm_cti.sqlite3")}
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The worker thread and the web share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    # A file, not memory, so that a server started by the tests can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_crm_cti.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DB_POOL_MAX_SIZE > 0 and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's backend, but its pool checks connections with crm_cti/db_pool.py's check,
    # which skips those handed back a moment ago (Django's would add a round trip to every
    # webhook delivery).
    DATABASES["default"]["ENGINE"] = "crm_cti.postgres"
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        # Short: with PostgreSQL down the webhook must answer 503 within the platform's
        # ~3 s (so it redelivers), not hang for the whole wait (tests/resilience).
        "timeout": DB_POOL_TIMEOUT_SECONDS,
    }

# --- Redis, channel layer

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Deployments sharing one Redis keep their cache keys apart, as their other
            # keys (crm_cti/redis_client.py: named after the Celery queue).
            "KEY_PREFIX": env.str("CELERY_QUEUE", default="celery"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 reads with a 5 s socket timeout by default, exactly
                        # channels_redis's 5 s BZPOPMIN: an idle /ws/agent/ consumer then
                        # dies now and then with "Timeout reading". Keep the read timeout
                        # above the blocking pop; a dead Redis still fails fast (RST).
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                        # redis-py 8's asyncio pool refuses connections past 100 instead of
                        # waiting: with 500 websockets connecting or closing at once, most
                        # group_add/group_discard calls failed.
                        "max_connections": 1000,
                    }
                ],
                "prefix": env.str("CHANNELS_PREFIX", default="crm_cti"),
                # Messages for every socket of one web process share one Redis key, and
                # channels_redis silently drops group sends past its capacity (default
                # 100): a web process a second behind at 200 events/s lost pops. Late
                # beats lost; the 60-second expiry still bounds what waits.
                "capacity": 10_000,
            },
        }
    }
    # CHANNEL_LAYER=pubsub: channels_redis's pub/sub layer, where a group send is one
    # PUBLISH instead of a group read and a push per member; messages to a web process that
    # is not subscribed at that moment are gone (no capacity, no expiry): the browser's
    # reconnect snapshot covers that. README "Performance" has both measured.
    if env.str("CHANNEL_LAYER", default="list") == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {
                    "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 5}],
                    "prefix": env.str("CHANNELS_PREFIX", default="crm_cti"),
                },
            }
        }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery

# Embedded mode uses an in-memory broker served by a worker thread inside the web process
# (crm_cti/embedded.py), so that countdown/eta stay delayed as in production. Outside the
# web process (manage.py commands, tests) embedded tasks run eagerly.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The Celery queue this deployment's processes use (the ops page shows its depth): two
# deployments (or test stacks) can share one Redis without taking each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# The REST rate budget's Redis keys. Not named after the deployment's queue: the platform
# limits requests per user and app, so deployments sharing a Redis and a RingCentral app
# share one budget (the tests give each run its own).
RC_BUDGET_KEY_PREFIX = env.str("RC_BUDGET_KEY_PREFIX", default="crm_cti:rc-budget")
# REST work (enrichment, sign-in subscriptions, RingOut polling, reconciliation, imports) has
# a queue of its own, "<CELERY_QUEUE>.rest", so that a worker started with
# ``-Q <CELERY_QUEUE>`` runs the applier and nothing that waits on RingCentral, and one with
# ``-Q <CELERY_QUEUE>.rest`` the rest (README "Processes"; bench: the enrichment tasks took
# ~40 % of the applier's process). A worker started without ``-Q`` consumes both, as before.
CELERY_REST_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.rest"
# Each queue its own exchange and routing key, as Celery makes the default queue when none
# is declared: two queues bound with the default key would each get a copy of every task.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, CELERY_REST_QUEUE)
)
# Which tasks go to the REST queue: crm_cti/telephony/dispatch.py (REST_TASKS), by the queue
# name of the running app (tests and test stacks change it at run time).
CELERY_TASK_ROUTES = ("crm_cti.telephony.dispatch.task_route",)
if not REDIS_URL:
    # Embedded mode: the in-process worker polls its in-memory broker, every second by
    # default, which would delay every pop by up to a second.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.1}
# Celery's result backend is created per thread unless marked thread-safe, and the web runs
# every request in a new thread: each webhook built a Redis result backend (and its
# connection pool) just to enqueue a task. redis-py clients are thread-safe: share one.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
# Worker tasks wait on PostgreSQL and Redis most of the time: threads overlap those waits
# in one process, where prefork children each idle on them (bench: worker CPU per event
# 20.7 -> 14.7 ms, p50 event-to-pop at 30 ev/s 166 -> 36 ms, RSS 277 -> 109 MiB).
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=4)

# Periodic work (Celery beat; embedded mode runs beat in a thread of the web process).
# How often beat checks the webhook subscriptions (renew, recreate).
SUBSCRIPTION_CHECK_INTERVAL_SECONDS = env.int("SUBSCRIPTION_CHECK_INTERVAL_SECONDS", default=3600)
# Reconciliation from active calls (RECONCILE_GRACE_SECONDS below says what it ends).
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=180)
# Incremental message sync per signed-in agent (repairs a lost message event).
MESSAGE_SYNC_INTERVAL_SECONDS = env.int("MESSAGE_SYNC_INTERVAL_SECONDS", default=300)
# How often beat re-enqueues events stored but never processed (broker down, worker killed);
# RingOuts whose polling lived only in a lost broker are picked up at the same pace.
EVENT_SWEEP_INTERVAL_SECONDS = env.float("EVENT_SWEEP_INTERVAL_SECONDS", default=30.0)
# Event streams (one per shard, events sharded by extension): more applier processes than
# one raise the sustained rate only when there are about as many shards as appliers or
# more; each applier then reads the shards it holds a lease on (telephony/stream.py).
TELEPHONY_SHARDS = env.int("TELEPHONY_SHARDS", default=1)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "ops-worker-heartbeat": {"task": "ops.worker_heartbeat", "schedule": 60.0},
    "telephony-subscriptions-maintain": {
        "task": "telephony.subscriptions_maintain",
        "schedule": float(SUBSCRIPTION_CHECK_INTERVAL_SECONDS),
    },
    "telephony-reconcile": {
        "task": "telephony.reconcile_all",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    "telephony-events-sweep": {
        "task": "telephony.events_sweep",
        "schedule": EVENT_SWEEP_INTERVAL_SECONDS,
    },
    "telephony-events-prune": {"task": "telephony.events_prune", "schedule": 3600.0},
    "telephony-ringouts-sweep": {
        "task": "telephony.ringouts_sweep",
        "schedule": EVENT_SWEEP_INTERVAL_SECONDS,
    },
    # An incremental message sync per agent repairs a lost message event (crm_cti/messaging).
    "messaging-sync": {
        "task": "messaging.messages_sync_all",
        "schedule": float(MESSAGE_SYNC_INTERVAL_SECONDS),
    },
    # Contact imports that lost their task (CONTACT_IMPORT_SWEEP_AFTER_SECONDS below).
    "crm-contact-imports-sweep": {"task": "crm.contact_imports_sweep", "schedule": 60.0},
}

# --- telephony

# Webhook, call tracker, enrichment, RingOut (crm_cti/telephony).
# Webhook bodies above this size get 413 before parsing (a presence event is ~2 KB).
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# A delivery whose envelope timestamp is older than this, or ahead of our clock by more than
# the skew, is refused with 400 (a replayed capture, or a clock gone wrong) and not stored.
WEBHOOK_MAX_EVENT_AGE_SECONDS = env.int("WEBHOOK_MAX_EVENT_AGE_SECONDS", default=24 * 3600)
WEBHOOK_MAX_CLOCK_SKEW_SECONDS = env.int("WEBHOOK_MAX_CLOCK_SKEW_SECONDS", default=300)
# Lifetime asked for new webhook subscriptions, and how early before expiry they are renewed.
SUBSCRIPTION_EXPIRES_IN = env.int("SUBSCRIPTION_EXPIRES_IN", default=7 * 24 * 3600)
SUBSCRIPTION_RENEW_BEFORE_SECONDS = env.int("SUBSCRIPTION_RENEW_BEFORE_SECONDS", default=24 * 3600)
# Create a per-extension subscription when an agent signs in (unless an account one exists).
SUBSCRIBE_ON_SIGNIN = env.bool("SUBSCRIBE_ON_SIGNIN", default=True)
# Account mode from the configuration: beat keeps one account-level subscription (with the
# RC_JWT service credential), creating it when missing. Without it, account mode is on while
# an admin-created account subscription exists.
ACCOUNT_SUBSCRIPTION = env.bool("ACCOUNT_SUBSCRIPTION", default=False)
# How notifications reach us: "webhook" (the platform POSTs to WEBHOOK_BASE_URL, which it must
# reach) or "websocket" (the events process, manage.py rcevents, holds a connection to the
# platform's WebSocket gateway per subscription owner: no public address needed).
RC_EVENTS_TRANSPORT = env.str("RC_EVENTS_TRANSPORT", default="webhook").strip().lower()
if RC_EVENTS_TRANSPORT not in ("webhook", "websocket"):
    raise ImproperlyConfigured(
        f"RC_EVENTS_TRANSPORT must be webhook or websocket, not {RC_EVENTS_TRANSPORT!r}"
    )
# WebSocket transport: a connection's holder renews its lease (in Redis; in embedded mode a
# database row) this often; a standby takes an owner over this long after its holder died.
EVENTS_LEASE_SECONDS = max(env.float("EVENTS_LEASE_SECONDS", default=10.0), 2.0)
# Active-calls enrichment: at most one request per agent (or per account) per window.
ACTIVE_CALLS_WINDOW_SECONDS = env.int("ACTIVE_CALLS_WINDOW_SECONDS", default=30)
# Active calls lag real time by 3-10 s: wait this long after an event before asking.
ACTIVE_CALLS_DELAY_SECONDS = env.int("ACTIVE_CALLS_DELAY_SECONDS", default=5)
# Call-log fetch after a call ends: first try after the delay, then every retry interval,
# at most this many tries that do not find the call (rate-limit waits do not count).
CALL_LOG_DELAY_SECONDS = env.int("CALL_LOG_DELAY_SECONDS", default=15)
CALL_LOG_RETRY_SECONDS = env.int("CALL_LOG_RETRY_SECONDS", default=20)
CALL_LOG_MAX_ATTEMPTS = env.int("CALL_LOG_MAX_ATTEMPTS", default=8)
# A live call silent this long and absent from active calls is ended by reconciliation.
RECONCILE_GRACE_SECONDS = env.int("RECONCILE_GRACE_SECONDS", default=30)
# A NoCall for a call that only rang, without terminationType "final", counts as missed only
# after this long with no newer Ringing/CallConnected (several devices ringing send such a
# transitional NoCall; its "intermediate" marker is deprecated). 0 = missed at once.
CALL_MISSED_GRACE_SECONDS = max(env.float("CALL_MISSED_GRACE_SECONDS", default=3.0), 0.0)
# Ended calls stay in the live list (snapshot, /api/calls/live/) this long, to show the result.
LIVE_CALL_LINGER_SECONDS = env.int("LIVE_CALL_LINGER_SECONDS", default=60)
# RingOut status polling interval (never below 3 s, per the platform's guidance).
RINGOUT_POLL_SECONDS = max(env.float("RINGOUT_POLL_SECONDS", default=3.0), 3.0)
RINGOUT_MAX_POLLS = env.int("RINGOUT_MAX_POLLS", default=100)
# Events still unprocessed after this long (broker was down) are re-enqueued by the sweeper.
EVENT_SWEEP_AFTER_SECONDS = env.int("EVENT_SWEEP_AFTER_SECONDS", default=30)
# An event whose application failed this many times (or that the sweeper announced this many
# times, or that the stream delivered this many times without an acknowledgement) is marked
# failed, shown on the operations page, and no longer holds up its extension.
EVENT_MAX_ATTEMPTS = max(env.int("EVENT_MAX_ATTEMPTS", default=5), 1)
# Raw webhook events are kept this long after they were applied (debugging, audits).
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=7)

# --- messaging

# crm_cti/messaging: the messages imported at sign-in, and when a follow-up is due.
MESSAGE_IMPORT_DAYS = env.int("MESSAGE_IMPORT_DAYS", default=7)
FOLLOWUP_DUE_MINUTES = env.int("FOLLOWUP_DUE_MINUTES", default=60)

# --- agent pages

# crm_cti/dashboard, crm_cti/crm, crm_cti/ops.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")
# Visiting the call history queues an incremental call-log import at most this often per agent.
CALLLOG_REFRESH_SECONDS = env.int("CALLLOG_REFRESH_SECONDS", default=300)
# Recordings one user may be streaming at once (a player seeking opens a new request and
# drops the old one); past this the proxy answers 429.
RECORDING_MAX_STREAMS_PER_USER = env.int("RECORDING_MAX_STREAMS_PER_USER", default=3)
# A contact import pending or running but not updated for this long lost its task (broker
# restarted, worker killed): the sweep (every minute) starts it again where it stopped. One
# that was started this many times without finishing is marked failed instead.
CONTACT_IMPORT_SWEEP_AFTER_SECONDS = env.int("CONTACT_IMPORT_SWEEP_AFTER_SECONDS", default=120)
CONTACT_IMPORT_MAX_ATTEMPTS = env.int("CONTACT_IMPORT_MAX_ATTEMPTS", default=5)

# --- RingCentral

# The client and sign-in (crm_cti/ringcentral, crm_cti/accounts). The defaults point at the
# bundled sandbox (python manage.py rcsandbox).
RC_SERVER_URL = env.str("RC_SERVER_URL", default="http://127.0.0.1:8900").rstrip("/")
RC_CLIENT_ID = env.str("RC_CLIENT_ID", default="crm-cti-demo-client")
RC_CLIENT_SECRET = env.str("RC_CLIENT_SECRET", default="crm-cti-demo-secret")
# The RingCentral account whose users may sign in (their extension's account.id); anyone
# else's sign-in is refused. Required when DEBUG is off (the demo sets the sandbox's).
RC_ACCOUNT_ID = env.str("RC_ACCOUNT_ID", default="")
# Hosts serving the bundled sandbox over plain HTTP besides loopback (docker-compose's
# "sandbox" service); the demo client credentials only work against the sandbox.
RC_SANDBOX_HOSTS = env.list("RC_SANDBOX_HOSTS", default=[])
# Where the browser is sent to sign in, when it reaches the platform at another address than
# the servers do (docker-compose: the browser uses localhost:8900, web uses sandbox:8900).
# Empty: RC_SERVER_URL's /restapi/oauth/authorize.
RC_AUTHORIZE_URL = env.str("RC_AUTHORIZE_URL", default="")
RC_REDIRECT_URI = env.str(
    "RC_REDIRECT_URI", default=f"http://127.0.0.1:{APP_PORT}/auth/callback/"
)
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default=f"http://127.0.0.1:{APP_PORT}").rstrip("/")
RC_JWT = env.str("RC_JWT", default="")
# Who administers crm_cti besides extensions with RingCentral's admin permission
# (permissions.admin.enabled): extension ids or numbers, and RingCentral role ids.
CRM_ADMIN_EXTENSIONS = env.list("CRM_ADMIN_EXTENSIONS", default=[])
CRM_ADMIN_ROLE_IDS = env.list("CRM_ADMIN_ROLE_IDS", default=[])
RC_TIMEOUT_SECONDS = env.float("RC_TIMEOUT_SECONDS", default=10.0)
# Retries of idempotent RingCentral requests (GET/PUT/DELETE) on 5xx and connection errors.
RC_MAX_RETRIES = env.int("RC_MAX_RETRIES", default=2)
# First retry delay; doubles per attempt (with jitter); no retry waits more than 8 s.
RC_RETRY_BACKOFF_SECONDS = env.float("RC_RETRY_BACKOFF_SECONDS", default=0.5)
# Refresh an access token this long before it expires (at most a tenth of its lifetime).
RC_TOKEN_REFRESH_MARGIN_SECONDS = env.int("RC_TOKEN_REFRESH_MARGIN_SECONDS", default=120)
# A sign-in started but not finished (state + PKCE verifier in the session) expires after this.
RC_SIGNIN_MAX_AGE_SECONDS = env.int("RC_SIGNIN_MAX_AGE_SECONDS", default=600)

# --- security

# Embedded mode generates its keys once under var/. Distributed mode must be given them:
# a key generated per process would sign sessions no other web process accepts and encrypt
# tokens the worker cannot read (checked just below).
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and not DISTRIBUTED:
    SECRET_KEY = load_or_create_key(VAR_DIR / "secret_key", kind="django")
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
if not TOKEN_ENCRYPTION_KEY and not DISTRIBUTED:
    TOKEN_ENCRYPTION_KEY = load_or_create_key(VAR_DIR / "token_key", kind="fernet")
_problems = deployment_problems(
    distributed=DISTRIBUTED,
    debug=DEBUG,
    secret_key=SECRET_KEY,
    token_encryption_key=TOKEN_ENCRYPTION_KEY,
    account_id=RC_ACCOUNT_ID,
    server_url=RC_SERVER_URL,
    client_id=RC_CLIENT_ID,
    client_secret=RC_CLIENT_SECRET,
    sandbox_hosts=RC_SANDBOX_HOSTS,
)
if _problems:
    raise ImproperlyConfigured("crm_cti refuses to start:\n- " + "\n- ".join(_problems))

# Served over TLS (distributed mode behind a proxy) these harden cookies and HSTS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain HTTP is assumed only where nobody else can connect: embedded mode answering loopback
# host names (a local trial, runserver). Distributed mode, or any other host, means TLS.
_LOOPBACK_ONLY = set(ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "[::1]"}
_TLS_DEFAULT = not DEBUG and (DISTRIBUTED or not _LOOPBACK_ONLY)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_TLS_DEFAULT)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_TLS_DEFAULT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_TLS_DEFAULT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _TLS_DEFAULT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _TLS_DEFAULT
SECURE_HSTS_PRELOAD = _TLS_DEFAULT
# The webhook and /healthz must stay reachable over plain HTTP from a local load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^webhooks/"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Error reports (the DEBUG page, mails to ADMINS) mask every credential: Django's own filter
# misses RC_JWT, passwords inside DATABASE_URL/REDIS_URL and secrets in local variables.
DEFAULT_EXCEPTION_REPORTER_FILTER = "crm_cti.dashboard.error_reports.CredentialMaskingFilter"
DEFAULT_EXCEPTION_REPORTER = "crm_cti.dashboard.error_reports.CredentialMaskingReporter"
# Content-Security-Policy (django-csp): only our own scripts, styles and sockets; forms post
# to us, and the sign-in form's redirect goes on to RingCentral's authorize page; no framing.
# The templates carry no inline script or style (static/js, static/css only).
_RC_ORIGIN = "/".join((RC_AUTHORIZE_URL or RC_SERVER_URL).split("/", 3)[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "form-action": ["'self'", _RC_ORIGIN],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- logging

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # requests-oauthlib and oauthlib log token responses, "Adding token ..." and
        # Authorization headers at DEBUG: with LOG_LEVEL=DEBUG every token would land in
        # the log. Keep them quiet.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}
