"""``novora docs``: dbt docs (lineage from sources to marts) generated against the live warehouse and served."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from orchestration import database
from orchestration.config import DBT_PROJECT_DIR, NovoraConfig
from orchestration.dbt import dbt_args, run_dbt
from orchestration.resources import dbt_environment


def serve_docs(config: NovoraConfig, port: int, serve: bool, echo: Callable[[str], None]) -> None:
    env = {**os.environ, **dbt_environment(database.warehouse_url(config))}
    run_dbt("docs", "generate", env=env)
    echo(f"dbt docs generated in {DBT_PROJECT_DIR / 'target'} (index.html, catalog.json, manifest.json)")
    if serve:
        echo(f"serving dbt docs on http://127.0.0.1:{port} (Ctrl-C to stop)")
        try:
            subprocess.run(dbt_args("docs", "serve", "--port", str(port), "--no-browser"), env=env, check=False)
        except KeyboardInterrupt:
            echo("stopped")
