"""Scaling beyond one machine is configuration: the executor and the embedding steps' GPU request come from the
environment (orchestration/scaling.py), and the Kubernetes files in deploy/kubernetes match the code and the
image. The Kubernetes parts are checked with dagster-k8s itself (a dev dependency): its config schemas and the
Job it would build."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration import scaling
from orchestration.scaling import K8S_CONFIG_TAG, ScalingConfigError

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "kubernetes" / "values.yaml"
APP = ROOT / "deploy" / "kubernetes" / "app.yaml"


# ---------------------------------------------------------------- the executor


def test_no_setting_keeps_dagsters_default_executor() -> None:
    assert scaling.executor_from_env({}) is None
    assert scaling.executor_from_env({"NOVORA_EXECUTOR": ""}) is None


def test_named_executors() -> None:
    assert scaling.executor_from_env({"NOVORA_EXECUTOR": "in_process"}) is dg.in_process_executor
    multi = scaling.executor_from_env({"NOVORA_EXECUTOR": "multiprocess", "NOVORA_MAX_CONCURRENT_STEPS": "3"})
    assert multi.name == "multiprocess"
    run_config = multi.config_schema.resolve_config({}).value  # what a run of the code location gets
    assert run_config["config"]["max_concurrent"] == 3
    k8s = scaling.executor_from_env({"NOVORA_EXECUTOR": "k8s"})
    assert k8s.name == "k8s"


def test_max_concurrent_steps_alone_limits_the_default_executor() -> None:
    limited = scaling.executor_from_env({"NOVORA_MAX_CONCURRENT_STEPS": "2"})
    assert limited.name == "multiprocess"
    assert limited.config_schema.resolve_config({}).value["config"]["max_concurrent"] == 2


@pytest.mark.parametrize(("env", "message"), [
    ({"NOVORA_EXECUTOR": "celery"}, "NOVORA_EXECUTOR must be one of (empty), multiprocess, in_process, k8s; "
                                     "got 'celery'"),
    ({"NOVORA_MAX_CONCURRENT_STEPS": "0"}, "NOVORA_MAX_CONCURRENT_STEPS must be a whole number, 1 or more; got '0'"),
    ({"NOVORA_MAX_CONCURRENT_STEPS": "two"}, "NOVORA_MAX_CONCURRENT_STEPS must be a whole number, 1 or more; "
                                             "got 'two'"),
])
def test_bad_settings_are_one_line(env, message) -> None:
    with pytest.raises(ScalingConfigError) as raised:
        scaling.executor_from_env(env)
    assert str(raised.value) == message


def test_the_code_location_runs_with_the_configured_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("NOVORA_EXECUTOR", "in_process")
    defs = build_definitions()
    assert defs.resolve_job_def("build_marts").executor_def is dg.in_process_executor
    monkeypatch.setenv("NOVORA_EXECUTOR", "k8s")
    defs = build_definitions()
    assert defs.resolve_job_def("build_marts").executor_def.name == "k8s"
    assert defs.resolve_job_def("land_survey").executor_def is dg.in_process_executor  # pinned: one process


# ---------------------------------------------------------------- GPU steps on Kubernetes


def test_cpu_embeddings_ask_for_nothing() -> None:
    assert scaling.embedding_step_tags({}) == {}
    assert scaling.embedding_step_tags({"NOVORA_EMBEDDING_DEVICE": "cpu"}) == {}


def test_cuda_embeddings_ask_kubernetes_for_gpus_in_dagster_k8s_own_terms() -> None:
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job, get_user_defined_k8s_config

    tags = scaling.embedding_step_tags({"NOVORA_EMBEDDING_DEVICE": "cuda:0", "NOVORA_EMBEDDING_GPUS": "2"})
    user_defined = get_user_defined_k8s_config(tags)  # validates against dagster-k8s' schema, or raises
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(job_image="registry.example.com/novora:0.1.0", dagster_home="/opt/dagster/dagster_home",
                            instance_config_map="dagster-instance"),
        args=["dagster", "api", "execute_step"], job_name="dagster-step-embeddings",
        user_defined_k8s_config=user_defined, pod_name="dagster-step-embeddings", component="step_worker",
    ).to_dict()
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert job["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule", "toleration_seconds": None,
         "value": None}]


@pytest.mark.parametrize("gpus", ["0", "-1", "one"])
def test_a_bad_gpu_count_is_one_line(gpus: str) -> None:
    with pytest.raises(ScalingConfigError, match=f"NOVORA_EMBEDDING_GPUS must be a whole number of GPUs, 1 or more; "
                                                  f"got '{gpus}'"):
        scaling.embedding_step_tags({"NOVORA_EMBEDDING_DEVICE": "cuda", "NOVORA_EMBEDDING_GPUS": gpus})


def test_only_the_embedding_steps_carry_the_gpu_request() -> None:
    env = {**os.environ, "NOVORA_EMBEDDING_DEVICE": "cuda", "PYTHONPATH": str(ROOT)}
    script = ("import json; from orchestration.definitions import build_definitions; "
              "g = build_definitions().resolve_asset_graph(); "
              "print(json.dumps(sorted('/'.join(k.path) for k in g.materializable_asset_keys "
              "if 'dagster-k8s/config' in (g.get(k).assets_def.op.tags or {}))))")
    done = subprocess.run([str(Path(os.sys.executable)), "-c", script], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    listed = [line for line in done.stdout.splitlines() if line.startswith("[")]  # whatever else is printed
    assert listed, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(listed[-1]) == ["nlp/comment_enrichment", "nlp/embeddings"]


# ---------------------------------------------------------------- deploy/kubernetes


def test_helm_values_serve_this_code_location_with_kubernetes_runs() -> None:
    values = yaml.safe_load(VALUES.read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "orchestration.definitions"]
    import orchestration.definitions as location

    assert isinstance(location.defs, dg.Definitions)
    env = {item["name"]: item["value"] for item in deployment["env"]}
    assert env["NOVORA_EXECUTOR"] == "k8s" and scaling.executor_from_env(env).name == "k8s"
    assert scaling.embedding_step_tags(env)[K8S_CONFIG_TAG]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False  # a managed PostgreSQL, never the chart's own
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    # no secret inline: passwords and URLs come from Kubernetes secrets
    text = VALUES.read_text().lower()
    assert "password:" not in text and "postgresql://" not in text


def test_k8s_run_launcher_settings_are_valid_for_dagster_k8s() -> None:
    from dagster._config import validate_config
    from dagster_k8s import K8sRunLauncher

    launcher = yaml.safe_load(VALUES.read_text())["runLauncher"]["config"]["k8sRunLauncher"]
    # the chart writes these into dagster.yaml under their snake_case names
    config = {"env_secrets": [s["name"] for s in launcher["envSecrets"]],
              "run_k8s_config": {"container_config": launcher["runK8sConfig"]["containerConfig"]},
              "instance_config_map": "novora-dagster-instance", "service_account_name": "novora-dagster"}
    result = validate_config(K8sRunLauncher.config_type(), config)
    assert result.success, [e.message for e in result.errors]


def test_the_app_deployment_runs_the_app_like_docker_compose() -> None:
    deployment, service = yaml.safe_load_all(APP.read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == compose["services"]["app"]["command"]
    assert container["envFrom"] == [{"secretRef": {"name": "novora-env"}}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    values = yaml.safe_load(VALUES.read_text())
    image = values["dagster-user-deployments"]["deployments"][0]["image"]
    assert container["image"] == f"{image['repository']}:{image['tag']}"


def test_the_image_installs_dagster_k8s_with_the_k8s_extra() -> None:
    text = (ROOT / "Dockerfile").read_text()
    start = text.index('python -c "import os, tomllib')
    command = text[start:text.index("> /tmp/requirements.txt", start)].replace("\\\n", "")
    plain, k8s = (subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd=ROOT, check=True,
                                 env={**os.environ, "NOVORA_EXTRAS": extras}).stdout.split()
                  for extras in ("", "k8s"))
    assert "dagster-k8s==0.29.*" in k8s and "dagster-k8s==0.29.*" not in plain
    assert set(plain) < set(k8s)
