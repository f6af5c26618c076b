"""A cold start proxy for every function in template.yaml, and what each one ships.

Each measurement is a fresh ``python -I -S`` process set up as Lambda sets one up: the
function's folder, then the layer (the order_saga package), then a site folder holding
only what the function would find on Lambda (the layer's pinned dependencies and the
boto3 the runtime provides, linked from this virtualenv), the function's environment
from template.yaml plus the variables Lambda sets (credentials included, so nothing
looks for them on the network). It times:

- init: importing the handler's module, which is all Lambda's INIT phase runs here,
  once with X-Ray tracing off and once on (the template sets Tracing: Active: then the
  X-Ray SDK patches botocore during init);
- ready: init (X-Ray on) plus building the clients the first request needs (the
  function's ``DEPENDENCIES.get()``, no network), the whole cold start before the first
  AWS call;

beside the same process doing a bare ``import boto3`` (and ``import boto3`` plus one
DynamoDB client, for ready). Runs are interleaved round by round so that a busy
machine slows every column alike; the median of the rounds is kept. Bytecode is
compiled once into a private cache first, as the Lambda runtime and pip-installed
layers ship it.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local_runtime.emulator.template import REGION, Template

if TYPE_CHECKING:
    from collections.abc import Iterable

    from local_runtime.emulator.template import FunctionSpec

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared"
LAYER_REQUIREMENTS = LAYER / "requirements.txt"
RUNTIME_PROVIDES = ("boto3",)
"""What the Lambda Python runtime already has on its path."""
LAMBDA_MARKERS = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}

TIMED = """
import json, sys, time
sys.pycache_prefix = {cache!r}
sys.dont_write_bytecode = False
sys.path[:0] = {path!r}
start, start_cpu = time.perf_counter(), time.process_time()
{body}
"""
BASELINE_BODY = """
import boto3
imported, imported_cpu = time.perf_counter(), time.process_time()
boto3.client("dynamodb")
print(json.dumps({"init": imported - start, "init_cpu": imported_cpu - start_cpu,
                  "ready": time.perf_counter() - start}))
"""
HANDLER_BODY = """
import importlib
handler = getattr(importlib.import_module({module!r}), {attribute!r})
imported, imported_cpu = time.perf_counter(), time.process_time()
# the function's own dependencies (functions/<name>/app.py), built as its first request does
vars(importlib.import_module({module!r}))["DEPENDENCIES"].get()
print(json.dumps({{"init": imported - start, "init_cpu": imported_cpu - start_cpu,
                  "ready": time.perf_counter() - start}}))
"""


@dataclass(frozen=True)
class Subject:
    name: str
    path: list[str]
    body: str
    environment: dict[str, str]


def dependency_closure(requirements: Iterable[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions the requirements pull in, by canonical name, as pip
    would resolve them for Lambda (python 3.13, linux arm64)."""
    found: dict[str, metadata.Distribution] = {}
    extras_of: dict[str, set[str]] = {}
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in found and extras <= extras_of[name]:
            continue
        extras_of[name] = extras_of.get(name, set()) | extras
        distribution = found[name] = metadata.distribution(name)
        for line in distribution.requires or ():
            dependency = Requirement(line)
            wanted = dependency.marker is None or any(
                dependency.marker.evaluate({**LAMBDA_MARKERS, "extra": extra})
                for extra in ("", *sorted(extras_of[name]))
            )
            if wanted:
                pending.append(dependency)
    return found


def layer_requirements(text: str | None = None) -> list[str]:
    """The layer's requirements, one a line: continued lines joined, options such as
    ``--hash`` dropped (the file pins the whole closure with hashes, as pip reads it)."""
    text = LAYER_REQUIREMENTS.read_text() if text is None else text
    requirements = []
    for line in text.replace("\\\n", " ").splitlines():
        words = [word for word in line.split("#")[0].split() if not word.startswith("--")]
        if words:
            requirements.append(" ".join(words))
    return requirements


def link_site(distributions: Iterable[metadata.Distribution], into: Path) -> None:
    """A site folder with links to exactly these distributions' top-level files."""
    for distribution in distributions:
        tops = {Path(str(file)).parts[0] for file in distribution.files or ()}
        for top in sorted(tops - {".."}):
            if top.endswith(".pth") or top == "__pycache__":
                continue
            target = into / top
            if not target.exists():
                target.symlink_to(Path(str(distribution.locate_file(top))))


def lambda_environment(spec: FunctionSpec | None, tracing: bool) -> dict[str, str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    if spec is not None:
        environment.update(spec.environment)
        environment["AWS_LAMBDA_FUNCTION_NAME"] = spec.logical_id
        environment["LAMBDA_TASK_ROOT"] = str(spec.code_dir)
    return environment


def subjects(site: Path, template: Template) -> list[Subject]:
    found = [Subject("import boto3", [str(site)], BASELINE_BODY, lambda_environment(None, False))]
    for spec in template.functions().values():
        module, _, attribute = spec.handler.rpartition(".")
        body = HANDLER_BODY.format(module=module, attribute=attribute)
        path = [str(spec.code_dir), str(LAYER), str(site)]
        for tracing in (False, True):
            label = f"{spec.logical_id}{' +xray' if tracing else ''}"
            found.append(Subject(label, path, body, lambda_environment(spec, tracing)))
    return found


def run(subject: Subject, cache: str) -> dict[str, float]:
    code = TIMED.format(cache=cache, path=subject.path, body=subject.body)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        env=subject.environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{subject.name} failed to start:\n{done.stderr}")
    return {key: value * 1000 for key, value in json.loads(done.stdout).items()}


BOTO3_CPU = "import time; s = time.process_time(); import boto3; print(time.process_time() - s)"


def boto3_import_cpu_ms(rounds: int = 7) -> float:
    """Median CPU milliseconds of ``import boto3`` in a fresh interpreter (this one's
    environment, bytecode cached): the machine's yardstick for the other benchmarks."""
    samples = []
    for _ in range(rounds + 1):
        done = subprocess.run(
            [sys.executable, "-I", "-c", BOTO3_CPU], capture_output=True, text=True, check=True
        )
        samples.append(float(done.stdout) * 1000)
    return statistics.median(samples[1:])  # the first may compile the bytecode


def zipped_size(files: Iterable[tuple[Path, str]]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in files:
            archive.write(path, name)
    return len(buffer.getvalue())


def source_files(folder: Path) -> list[tuple[Path, str]]:
    return [
        (path, str(path.relative_to(folder)))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def package_sizes(
    template: Template, layer_dependencies: dict[str, metadata.Distribution]
) -> dict[str, Any]:
    dependency_files = [
        (Path(str(distribution.locate_file(file))), str(file))
        for distribution in layer_dependencies.values()
        for file in distribution.files or ()
        if "__pycache__" not in Path(str(file)).parts and not str(file).endswith(".pyc")
    ]
    dependency_files = [(path, name) for path, name in dependency_files if path.is_file()]
    return {
        "functions_zip_bytes": {
            name: zipped_size(source_files(spec.code_dir))
            for name, spec in template.functions().items()
        },
        "layer_code_zip_bytes": zipped_size(source_files(LAYER / "order_saga")),
        "layer_dependencies": {
            name: distribution.version for name, distribution in layer_dependencies.items()
        },
        "layer_dependencies_installed_bytes": sum(
            path.stat().st_size for path, _ in dependency_files
        ),
        "layer_dependencies_zip_bytes": zipped_size(dependency_files),
        "botocore_in_layer": "botocore" in layer_dependencies,
    }


def measure(rounds: int = 10) -> dict[str, Any]:
    template = Template()
    layer_dependencies = dependency_closure(layer_requirements())
    on_path = {**dependency_closure(RUNTIME_PROVIDES), **layer_dependencies}
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        site, cache = Path(scratch) / "site", str(Path(scratch) / "bytecode")
        site.mkdir()
        link_site(on_path.values(), site)
        every = subjects(site, template)
        for subject in every:  # compiles the bytecode; not timed
            run(subject, cache)
        samples: dict[str, list[dict[str, float]]] = {subject.name: [] for subject in every}
        for _ in range(rounds):
            for subject in every:
                samples[subject.name].append(run(subject, cache))
    medians = {
        name: {
            key: statistics.median(s[key] for s in runs) for key in ("init", "init_cpu", "ready")
        }
        for name, runs in samples.items()
    }
    baseline = medians.pop("import boto3")
    functions = {}
    for name in template.functions():
        off, on = medians[name], medians[f"{name} +xray"]
        functions[name] = {
            "init_ms": round(off["init"], 1),
            "init_ratio": round(off["init"] / baseline["init"], 2),
            "init_cpu_ms": round(off["init_cpu"], 1),
            "init_cpu_ratio": round(off["init_cpu"] / baseline["init_cpu"], 2),
            "init_xray_ms": round(on["init"], 1),
            "init_xray_ratio": round(on["init"] / baseline["init"], 2),
            "init_xray_cpu_ratio": round(on["init_cpu"] / baseline["init_cpu"], 2),
            "ready_xray_ms": round(on["ready"], 1),
            "ready_xray_ratio": round(on["ready"] / baseline["ready"], 2),
        }
    return {
        "rounds": rounds,
        "python": sys.version.split()[0],
        "boto3_import_ms": round(baseline["init"], 1),
        "boto3_import_cpu_ms": round(baseline["init_cpu"], 1),
        "boto3_import_and_client_ms": round(baseline["ready"], 1),
        "functions": functions,
        "packages": package_sizes(template, layer_dependencies),
    }
