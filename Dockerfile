# One image for every Python service of docker-compose.yml: the Dagster code server (user_code), the
# webserver, the daemon, the Streamlit app and the one-shot `init` (schema migrations).
#
#   docker compose build        # or: docker build -t novora .
#
# Layers go from slowest-changing to fastest: torch (CPU wheel), the project's dependencies, then the code.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, from the CPU index: installed later as a dependency of sentence-transformers it would come from
# PyPI with several GB of CUDA libraries. pyproject's `torch==2.13.0` is then already satisfied (2.13.0+cpu).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The project's dependencies, read from pyproject.toml, in their own layer (a code change does not reinstall them).
# NOVORA_EXTRAS adds optional groups: `--build-arg NOVORA_EXTRAS=k8s` for Kubernetes (dagster-k8s).
ARG NOVORA_EXTRAS=""
WORKDIR /opt/novora
COPY pyproject.toml README.md ./
RUN python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = [e for e in os.environ.get('NOVORA_EXTRAS', '').split(',') if e]; \
print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# A non-root user owns the code (dbt writes target/ and logs/ at run time) and the data directories, which the
# named volumes of docker-compose.yml inherit (owner included) on first use.
RUN groupadd --system --gid 10001 novora \
    && useradd --system --uid 10001 --gid novora --create-home --home-dir /home/novora novora \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/deploy /data/landing /data/novora \
        /data/dagster/compute_logs /data/dagster/storage \
    && chown -R novora:novora /opt/novora /opt/dagster /data

COPY --chown=novora:novora orchestration/ orchestration/
COPY --chown=novora:novora assets/ assets/
COPY --chown=novora:novora dashboards/ dashboards/
COPY --chown=novora:novora dbt_project/ dbt_project/
COPY --chown=novora:novora deploy/workspace.docker.yaml /opt/dagster/deploy/workspace.docker.yaml
COPY --chown=novora:novora deploy/dagster.yaml /opt/dagster/dagster_home/dagster.yaml

# The project itself (the `novora` command). Editable on purpose: orchestration/config.py finds dbt_project/
# next to the package (PROJECT_ROOT), which only holds when the package is imported from /opt/novora, not
# from a copy in site-packages. Its dependencies are installed above.
RUN pip install --no-deps -e . \
    && chown -R novora:novora /opt/novora

ENV DAGSTER_HOME=/opt/dagster/dagster_home \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NOVORA_HOME=/data/novora \
    NOVORA_LANDING=/data/landing \
    DAGSTER_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

USER novora

# Bake dbt's manifest into the image, so the code location loads without running dbt (parse never connects;
# these placeholders only let the profile render).
RUN NOVORA_PG_HOST=localhost NOVORA_PG_USER=postgres NOVORA_PG_DBNAME=novora \
    dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project \
    && test -f dbt_project/target/manifest.json

# 4000: Dagster code server, 3000: Dagster UI, 8501: Streamlit app.
EXPOSE 4000 3000 8501

# Default role: the Dagster code server (docker-compose.yml sets each service's command).
CMD ["dagster", "code-server", "start", "-m", "orchestration.definitions", "-h", "0.0.0.0", "-p", "4000"]
