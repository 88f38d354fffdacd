"""What makes running Novora on more than one machine a configuration change (README, "Scaling beyond one
machine"): the executor of the code location's jobs and automation runs, and the Kubernetes resources of the
steps that run the embedding model. Everything is read from the environment of the code location, so the same
image runs on a laptop, in docker-compose and on Kubernetes.

- ``NOVORA_EXECUTOR``: empty (Dagster's default: every step of a run in its own process on the run worker, as
  many at once as there are cores), ``multiprocess`` (the same, at most ``NOVORA_MAX_CONCURRENT_STEPS`` at once),
  ``in_process`` (one process, steps one after another) or ``k8s`` (dagster-k8s' ``k8s_job_executor``: every
  step in a Kubernetes Job of its own, so the embedding steps can go to GPU nodes while dbt runs on small ones).
- ``NOVORA_EMBEDDING_DEVICE`` = ``cuda`` (or ``cuda:N``): the embedding steps also ask Kubernetes for
  ``NOVORA_EMBEDDING_GPUS`` GPUs (``nvidia.com/gpu``, default 1) and tolerate the GPU nodes' usual taint.
  Other executors ignore these tags.

The jobs that pin their executor (``land_survey`` runs in one process on purpose, see orchestration/jobs.py)
keep it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

K8S_CONFIG_TAG = "dagster-k8s/config"  # read by dagster-k8s' run launcher and k8s_job_executor
GPU_RESOURCE = "nvidia.com/gpu"
EXECUTORS = ("", "multiprocess", "in_process", "k8s")


class ScalingConfigError(ValueError):
    """A scaling setting that cannot be used; the message is one line naming the variable."""


def embedding_step_tags(env: Mapping[str, str]) -> dict[str, str]:
    """Op tags of the steps that run the embedding model: GPU resources on Kubernetes when the device is CUDA."""
    device = (env.get("NOVORA_EMBEDDING_DEVICE") or "cpu").strip()
    if not device.startswith("cuda"):
        return {}
    raw = (env.get("NOVORA_EMBEDDING_GPUS") or "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ScalingConfigError(f"NOVORA_EMBEDDING_GPUS must be a whole number of GPUs, 1 or more; got {raw!r}")
    config = {
        "container_config": {"resources": {"limits": {GPU_RESOURCE: raw}, "requests": {GPU_RESOURCE: raw}}},
        "pod_spec_config": {"tolerations": [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]},
    }
    return {K8S_CONFIG_TAG: json.dumps(config, sort_keys=True)}


def max_concurrent_steps(env: Mapping[str, str]) -> int | None:
    raw = (env.get("NOVORA_MAX_CONCURRENT_STEPS") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ScalingConfigError(f"NOVORA_MAX_CONCURRENT_STEPS must be a whole number, 1 or more; got {raw!r}")
    return int(raw)


def executor_from_env(env: Mapping[str, str]) -> Any:
    """The executor definition ``NOVORA_EXECUTOR`` names (None: Dagster's default)."""
    import dagster as dg

    name = (env.get("NOVORA_EXECUTOR") or "").strip()
    steps = max_concurrent_steps(env)
    if name not in EXECUTORS:
        raise ScalingConfigError(f"NOVORA_EXECUTOR must be one of {', '.join(e or '(empty)' for e in EXECUTORS)}; "
                                 f"got {name!r}")
    if name == "in_process":
        return dg.in_process_executor
    if name == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise ScalingConfigError("NOVORA_EXECUTOR=k8s needs dagster-k8s in the image "
                                     "(pip install 'novora[k8s]')") from exc
        return k8s_job_executor.configured({"max_concurrent": steps}) if steps else k8s_job_executor
    if name == "multiprocess" or steps:
        return dg.multiprocess_executor.configured({"max_concurrent": steps or 0})
    return None
