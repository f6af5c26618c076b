"""The layer ships what was tested: layers/shared/requirements.txt pins the whole closure of
the runtime dependencies at requirements.lock's versions and hashes (ops/layer_requirements),
and `make build` finds the Lambda runtime's Python or names the step it needs
(ops/lambda_python)."""

from __future__ import annotations

import stat
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ops import lambda_python
from ops.layer_requirements import LOCK, closure, lock_entries, render, runtime_requirements

LAYER_REQUIREMENTS = Path(__file__).resolve().parents[2] / "layers" / "shared" / "requirements.txt"


def layer_pins() -> dict[str, tuple[str, int]]:
    """Canonical name -> (version, number of hashes) of each requirement in the file."""
    pins: dict[str, tuple[str, int]] = {}
    text = LAYER_REQUIREMENTS.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        (pin,) = requirement.specifier
        assert pin.operator == "==", line
        pins[canonicalize_name(requirement.name)] = (pin.version, len(hashes))
    return pins


def test_the_layer_file_is_the_one_generated_from_the_lock():
    assert LAYER_REQUIREMENTS.read_text(encoding="utf-8") == render(), (
        "layers/shared/requirements.txt drifted from requirements.lock: run make lock"
    )


def test_the_layer_pins_every_package_of_the_closure_at_the_locks_version_with_hashes():
    pins = layer_pins()
    locked = lock_entries(LOCK)
    needed = closure(runtime_requirements())

    assert set(pins) == set(needed)
    for name, (version, hashes) in pins.items():
        assert version == locked[name][0], name
        assert hashes == len(locked[name][1]) > 0, name


def test_the_closure_reaches_past_the_direct_dependencies():
    """Through the X-Ray SDK, botocore and its own dependencies: what sam build used to
    resolve afresh."""
    needed = closure(runtime_requirements())

    assert {"botocore", "jmespath", "urllib3", "python-dateutil", "pydantic-core"} <= set(needed)


# -- the Lambda runtime's Python -----------------------------------------------------------


def fake_python(folder: Path, reports: str) -> Path:
    """An executable named python3.13 that prints ``reports`` as its version."""
    folder.mkdir(parents=True, exist_ok=True)
    executable = folder / lambda_python.NAME
    executable.write_text(f"#!/bin/sh\necho {reports}\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    return executable


def test_a_python313_on_path_is_found(tmp_path):
    executable = fake_python(tmp_path / "bin", "3 13")

    assert lambda_python.find(path=str(tmp_path / "bin"), pyenv_root=tmp_path / "none") == (
        executable
    )


def test_a_pyenv_python313_is_found_newest_first(tmp_path):
    fake_python(tmp_path / "pyenv" / "versions" / "3.13.1" / "bin", "3 13")
    newest = fake_python(tmp_path / "pyenv" / "versions" / "3.13.10" / "bin", "3 13")

    assert lambda_python.find(path="", pyenv_root=tmp_path / "pyenv") == newest


def test_an_executable_that_is_not_313_is_passed_over(tmp_path):
    fake_python(tmp_path / "bin", "3 12")

    assert lambda_python.find(path=str(tmp_path / "bin"), pyenv_root=tmp_path / "none") is None


def test_without_one_make_build_names_the_install_step(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setattr(lambda_python, "_uv_find", lambda uv: None)

    assert lambda_python.main([]) == 1
    message = capsys.readouterr().err
    assert "uv python install 3.13" in message
    assert "sam build --use-container" in message
