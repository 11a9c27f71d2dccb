"""`kubectl kustomize deploy/k8s` renders, and every object validates against the Kubernetes schemas."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("gateway", "session-pool", "conversations", "webhook-ingest", "campaigns", "flows", "webhooks")


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl")


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    out = subprocess.run([kubectl(), "kustomize", str(ROOT / "deploy" / "k8s")], check=True,
                         capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_object_is_valid_kubernetes(rendered):
    version = latest_version()
    for doc in rendered:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any invalid field


def test_one_deployment_and_service_per_built_service(rendered):
    deployments, services = of_kind(rendered, "Deployment"), of_kind(rendered, "Service")
    assert set(deployments) == set(SERVICES)
    assert set(SERVICES) <= set(services)
    assert {"nats", "postgres"} <= set(of_kind(rendered, "StatefulSet"))
    for name, dep in deployments.items():
        [container] = dep["spec"]["template"]["spec"]["containers"]
        assert container["image"] == f"switchboard/{name}:0.1.0"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["limits"]
        assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        sources = container["envFrom"]
        assert {"configMapRef": {"name": "switchboard-config"}} in sources
        assert {"secretRef": {"name": "switchboard-secrets"}} in sources
        selector = services[name]["spec"]["selector"]
        assert selector.items() <= dep["spec"]["template"]["metadata"]["labels"].items()


def test_secrets_stay_out_of_config_maps(rendered):
    config = of_kind(rendered, "ConfigMap")["switchboard-config"]["data"]
    secret_keys = set(of_kind(rendered, "Secret")["switchboard-secrets"]["stringData"])
    assert not secret_keys & set(config)
    assert "SWITCHBOARD_DATABASE_URL" in secret_keys and "SWITCHBOARD_SECRET_KEY" in secret_keys
    assert all(d["metadata"].get("namespace") == "switchboard" for d in rendered if d["kind"] != "Namespace")


def test_a_broken_manifest_fails_validation():
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
              "spec": {"replicas": "two", "selector": {}, "template": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, latest_version(), strict=True)


def test_each_http_service_listens_where_its_service_points(rendered):
    for name, port_env, port in (("gateway", "SWITCHBOARD_GATEWAY_PORT", "8080"),
                                 ("webhook-ingest", "SWITCHBOARD_INGEST_PORT", "8081")):
        [container] = of_kind(rendered, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        assert env[port_env] == port and str(container["ports"][0]["containerPort"]) == port
