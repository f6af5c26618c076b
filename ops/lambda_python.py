"""The Python that `sam build` needs: the Lambda runtime's own version, python3.13.

`sam build` builds every function and the layer with the interpreter named after the
runtime (BuildMethod python3.13), found on PATH, and refuses to run without one. A fresh
machine may have only its system Python, so `make build` asks this module for one, in
this order, and puts its folder first on PATH:

1. ``python3.13`` on PATH;
2. a pyenv installation (``$PYENV_ROOT``, else ``~/.pyenv``: versions/3.13.*), highest first;
3. one uv already manages or can see (``uv python find 3.13``, which downloads nothing);
4. with ``--install``: ``uv python install 3.13``, which downloads a CPython build from
   the python-build-standalone releases (not a package registry: it fails where only
   the registries are reachable), then 3. again.

With none, it names the one step that is missing and exits 1.

    python -m ops.lambda_python [--install]     prints the interpreter's path
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = (3, 13)
NAME = "python{}.{}".format(*VERSION)
MISSING = f"""\
sam build needs {NAME}, the Lambda runtime's Python, and none was found (PATH, pyenv, uv).
Install one, then run make build again; any of:
  uv python install {VERSION[0]}.{VERSION[1]}     (uv downloads a CPython build)
  pyenv install {VERSION[0]}.{VERSION[1]}
  apt-get install {NAME}         (Debian 13, Ubuntu 24.04 and later)
or build in the Lambda build image instead: sam build --use-container (needs Docker)."""


class NoLambdaPython(LookupError):
    """No interpreter of the Lambda runtime's version could be found."""


def reports_version(executable: Path) -> bool:
    """Whether ``executable`` runs and says it is Python 3.13."""
    try:
        done = subprocess.run(
            [str(executable), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.split() == [str(part) for part in VERSION]


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in folder.name.split("."))


def pyenv_candidates(root: Path) -> list[Path]:
    prefix = "{}.{}.".format(*VERSION)
    versions = root / "versions"
    if not versions.is_dir():
        return []
    folders = [f for f in versions.iterdir() if f.name.startswith(prefix)]
    return [f / "bin" / NAME for f in sorted(folders, key=_version_key, reverse=True)]


def _uv_find(uv: str | None) -> Path | None:
    if not uv:
        return None
    done = subprocess.run(
        [uv, "python", "find", "{}.{}".format(*VERSION)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = done.stdout.strip()
    return Path(found) if done.returncode == 0 and found else None


def find(
    path: str | None = None, pyenv_root: Path | None = None, uv: str | None = None
) -> Path | None:
    """The first interpreter of the Lambda runtime's version, or None."""
    candidates: list[Path] = []
    on_path = shutil.which(NAME, path=path if path is not None else os.environ.get("PATH"))
    if on_path:
        candidates.append(Path(on_path))
    root = pyenv_root or Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += pyenv_candidates(root)
    for candidate in candidates:
        if candidate.is_file() and reports_version(candidate):
            return candidate
    found = _uv_find(uv)
    return found if found and reports_version(found) else None


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    found = find(uv=uv)
    if found is None and "--install" in args and uv:
        subprocess.run([uv, "python", "install", "{}.{}".format(*VERSION)], check=False)
        found = find(uv=uv)
    if found is None:
        print(MISSING, file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
