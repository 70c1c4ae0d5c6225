from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer may keep their overrides in .env; the process environment always wins.
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

# Values that are only acceptable on a developer's machine; production refuses every one of them.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production-0123456789"  # noqa: S105
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQtZW5jcnlwdGlvbi1rZXktMDA="
