"""The files under deploy/ say what they promise: each parses, the container images are built once
and pulled by an explicit policy, health checks run `scrape status --check`, the systemd daemon is
`Type=notify` with a watchdog, and the crontab line loads the secrets and logs somewhere writable.

Fast and offline. The external checkers (systemd-analyze, docker compose, hadolint,
kubernetes-validate) run when they are installed, and are skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
K8S = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
UNITS = ["boardwatch.service", "boardwatch-once.service", "boardwatch-once.timer"]
INSTALLED_SCRAPE = "/opt/boardwatch/bin/scrape"  # ExecStart's path in the units
STATUS_CHECK = ["scrape", "-q", "status", "--check"]


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of each workload in deploy/kubernetes/."""
    specs = []
    for path in K8S:
        for doc in load_all(path):
            spec = doc.get("spec", {})
            if doc["kind"] == "CronJob":
                spec = spec["jobTemplate"]["spec"]
            if "template" in spec:
                specs.append((f"{doc['kind']}/{doc['metadata']['name']}", spec["template"]["spec"]))
    return specs


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec.get("initContainers", []) + spec["containers"]


def unit(name: str) -> dict[tuple[str, str], list[str]]:
    """(section, key) -> values of a systemd unit file (keys may repeat)."""
    entries: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in (DEPLOY / name).read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault((section, key.strip()), []).append(value.strip())
    return entries


FIELD_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
NAMES = [{}, {}, {}, {m: i + 1 for i, m in enumerate(MONTHS)}, {d: i for i, d in enumerate(DAYS)}]
ITEM = re.compile(r"^(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?$")


def cron_field_ok(field: str, index: int) -> bool:
    low, high = FIELD_RANGES[index]
    for item in field.split(","):
        match = ITEM.match(item.lower())
        if not match:
            return False
        for value in filter(None, (match[2], match[3])):
            number = NAMES[index].get(value, int(value) if value.isdigit() else None)
            if number is None or not low <= number <= high:
                return False
        if match[4] is not None and int(match[4]) == 0:
            return False
    return True


def cron_schedule_ok(schedule: str) -> bool:
    fields = schedule.split()
    return len(fields) == 5 and all(cron_field_ok(f, i) for i, f in enumerate(fields))


def crontab_entries() -> list[str]:
    lines = (DEPLOY / "crontab").read_text("utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


# --- every file parses -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DEPLOY / "compose.yaml", *K8S], ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    docs = load_all(path)
    assert docs and all(isinstance(doc, dict) for doc in docs)


def test_cron_checker_rejects_bad_schedules() -> None:
    assert cron_schedule_ok("*/10 * * * *") and cron_schedule_ok("0 8 * jan-mar mon-fri")
    for bad in ["*/10 * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "a * * * *"]:
        assert not cron_schedule_ok(bad), bad


# --- Kubernetes --------------------------------------------------------------------------------


def test_kubernetes_has_the_daemon_and_the_cronjob() -> None:
    kinds = {name.split("/")[0] for name, _ in pod_specs()}
    assert kinds == {"Deployment", "CronJob"}


@pytest.mark.parametrize("name,spec", pod_specs(), ids=[n for n, _ in pod_specs()])
def test_kubernetes_images_have_a_pull_policy_and_a_version_tag(
    name: str, spec: dict[str, Any]
) -> None:
    for c in containers(spec):
        assert c.get("imagePullPolicy") in {"IfNotPresent", "Always", "Never"}, (name, c["name"])
        tag = c["image"].rpartition(":")[2]
        assert "/" not in tag and tag not in {"", "latest"}, (
            f"{name}: {c['image']} has no fixed tag"
        )
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_kubernetes_daemon_probes_run_status_check() -> None:
    [spec] = [spec for name, spec in pod_specs() if name.startswith("Deployment/")]
    [daemon] = [c for c in spec["containers"] if c["args"] == ["run"]]
    for probe in ("livenessProbe", "readinessProbe"):
        assert daemon[probe]["exec"]["command"] == STATUS_CHECK, probe
        assert daemon[probe]["timeoutSeconds"] >= 10, "a probe starts a Python process"
    live = daemon["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 600, "liveness must be generous"
    assert {"containerPort": 9464, "name": "metrics"} in daemon["ports"]


def test_kubernetes_cronjob_schedule_is_valid() -> None:
    [doc] = load_all(DEPLOY / "kubernetes" / "cronjob.yaml")
    assert cron_schedule_ok(doc["spec"]["schedule"])
    assert doc["spec"]["concurrencyPolicy"] == "Forbid"


# --- Docker and Compose ------------------------------------------------------------------------


def test_dockerfile_healthcheck_and_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert re.search(r'^\s*CMD \["scrape", "-q", "status", "--check"\]', text, re.M)
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^EXPOSE 9464$", text, re.M)


def test_compose_builds_the_image_once() -> None:
    services = compose()["services"]
    ours = {n: s for n, s in services.items() if "postgres" not in s.get("image", "")}
    builders = [n for n, s in ours.items() if "build" in s]
    assert len(builders) == 1, f"built by {builders}"
    image = ours[builders[0]]["image"]
    for name, service in ours.items():
        assert service["image"] == image, name
        if name not in builders:
            assert service.get("pull_policy") == "never", f"{name} would try to pull {image}"


def test_compose_runs_on_v2_before_2_24_and_on_1_29() -> None:
    """No top-level `name`/`version` and no `env_file: [{path, required}]` (Compose ≥ 2.24)."""
    doc = compose()
    assert not {"name", "version"} & doc.keys()
    for name, service in doc["services"].items():
        env_files = service.get("env_file", [])
        for entry in [env_files] if isinstance(env_files, str) else env_files:
            assert isinstance(entry, str), f"{name}: env_file {entry!r} needs Compose 2.24"
            assert (DEPLOY / f"{entry}.example").exists(), f"{name}: no {entry}.example to copy"


def test_compose_daemon_health_and_metrics() -> None:
    daemon = compose()["services"]["boardwatch"]
    assert daemon["command"] == ["run"]
    assert daemon["healthcheck"]["test"] == ["CMD", *STATUS_CHECK]
    assert "9464" in [str(p) for p in daemon.get("expose", [])]
    assert daemon["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_env_example_is_plain_key_value_and_the_copy_is_ignored() -> None:
    for line in (DEPLOY / "boardwatch.env.example").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*=[^\s'\"$\\]*", line), line
    assert "boardwatch.env" in (DEPLOY / ".gitignore").read_text("utf-8").split()


# --- systemd -----------------------------------------------------------------------------------


def test_daemon_unit_is_notify_with_a_watchdog() -> None:
    u = unit("boardwatch.service")
    assert u["Service", "Type"] == ["notify"]
    assert u["Service", "NotifyAccess"] == ["main"]
    [watchdog] = u["Service", "WatchdogSec"]
    assert re.fullmatch(r"[1-9]\d*(s|min)?", watchdog), watchdog
    assert u["Service", "Restart"] == ["on-failure"]
    assert u["Service", "ExecStart"] == [f"{INSTALLED_SCRAPE} run"]


@pytest.mark.parametrize("name", ["boardwatch.service", "boardwatch-once.service"])
def test_units_load_secrets_and_are_sandboxed(name: str) -> None:
    u = unit(name)
    assert u["Service", "EnvironmentFile"] == ["-/etc/boardwatch/boardwatch.env"]
    assert u["Service", "ProtectSystem"] == ["strict"]
    assert u["Service", "NoNewPrivileges"] == ["true"]
    assert u["Service", "StateDirectory"] == ["boardwatch"]
    assert "User" in {key for _, key in u} or u.get(("Service", "DynamicUser")) == ["yes"]


def test_timer_starts_the_oneshot() -> None:
    assert unit("boardwatch-once.service")["Service", "Type"] == ["oneshot"]
    assert unit("boardwatch-once.service")["Service", "ExecStart"] == [
        f"{INSTALLED_SCRAPE} -q once"
    ]
    assert "OnCalendar" in {key for _, key in unit("boardwatch-once.timer")}


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """The units as shipped, except ExecStart's scrape: a stub here (verify wants it to exist)."""
    stub = tmp_path / "scrape"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text("utf-8").replace(INSTALLED_SCRAPE, str(stub))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    # verify exits 0 on unknown keys and bad values too: any output is a finding
    assert result.returncode == 0 and not output, output


# --- cron --------------------------------------------------------------------------------------


def test_crontab_line_loads_secrets_and_logs_somewhere_writable() -> None:
    [entry] = crontab_entries()
    fields = entry.split(None, 5)
    assert cron_schedule_ok(" ".join(fields[:5])), entry
    command = fields[5]
    assert "%" not in command, "cron turns % into newlines"
    assert re.search(r"set -a && \. \S+\.env && set \+a && ", command), "no env file loaded"
    assert "/var/log" not in command
    target = re.search(r">>\s*(\S+)\s+2>&1$", command)
    assert target is not None and target[1].startswith('"$HOME/'), command


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="no /bin/sh")
def test_crontab_command_runs_under_sh(tmp_path: Path) -> None:
    """The command as cron runs it: /bin/sh, a bare environment, HOME set."""
    command = crontab_entries()[0].split(None, 5)[5]
    home = tmp_path / "home"
    (home / ".local/state/boardwatch").mkdir(parents=True)
    venv_bin = home / "boardwatch/.venv/bin"
    venv_bin.mkdir(parents=True)
    (home / "boardwatch/boardwatch.env").write_text("SMTP_PASSWORD=s3cret\n# a comment\n")
    scrape = venv_bin / "scrape"
    scrape.write_text('#!/bin/sh\necho "args=$* secret=$SMTP_PASSWORD cwd=$(pwd)"\n')
    scrape.chmod(0o755)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}
    result = subprocess.run(
        ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and not result.stdout + result.stderr, result
    log = (home / ".local/state/boardwatch/cron.log").read_text()
    assert log == f"args=-q once secret=s3cret cwd={home / 'boardwatch'}\n"


# --- external checkers, where installed ----------------------------------------------------------


def compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(compose_cli() is None, reason="neither `docker compose` nor docker-compose")
def test_compose_config(tmp_path: Path) -> None:
    """`compose config` on a copy of deploy/ with the example env file in place."""
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy, ignore=shutil.ignore_patterns("boardwatch.env"))
    shutil.copy(deploy / "boardwatch.env.example", deploy / "boardwatch.env")
    cli = compose_cli()
    assert cli is not None
    result = subprocess.run(
        [*cli, "-f", str(deploy / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=deploy,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("hadolint"), reason="hadolint is not installed")
def test_hadolint() -> None:
    result = subprocess.run(
        ["hadolint", str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not shutil.which("kubernetes-validate"), reason="kubernetes-validate is not installed"
)
def test_kubernetes_validate_strict() -> None:
    result = subprocess.run(
        ["kubernetes-validate", "--strict", "--quiet", *map(str, K8S)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
