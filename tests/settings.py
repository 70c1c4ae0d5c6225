"""Test settings: the real settings, with the sandbox standing in for Google and Greenhouse."""

import os

os.environ.setdefault("SANDBOX", "1")
# Nothing listens on the discard port: a test that did not start the sandbox fixture can never
# reach a developer's running sandbox on 8001.
os.environ.setdefault("SANDBOX_URL", "http://127.0.0.1:9")

from outreach.settings import *  # noqa: F403
from outreach.settings import INSTALLED_APPS, STORAGES

# A model with an encrypted column, for the key-rotation tests (created by syncdb in the test DB).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.secrets_app"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# In-process tests run tasks inline; the worker tests start a real worker and switch this off
# in the test process. Worker processes keep running what they queue inline too, unless told
# otherwise (the fault tests, whose workers hand every task through the broker).
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") == "1"

# A real worker process cannot share the test's in-memory outbox: it writes files the test reads.
if os.environ.get("WORKER_EMAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["WORKER_EMAIL_DIR"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

SITE_URL = "http://testserver"

# Server threads (live server, sandbox) close their connection after each request, so that the
# test database can be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
