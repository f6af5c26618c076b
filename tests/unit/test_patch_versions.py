"""The local runtime's patches refuse, by name and version, a library they were not tested on."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from local_runtime import patches
from local_runtime.patches import versions
from local_runtime.patches.versions import TESTED, UntestedVersion, check


def test_the_installed_moto_is_one_the_patches_were_tested_on() -> None:
    assert version("moto") in TESTED["moto"]
    check()  # raises otherwise


def test_another_moto_version_is_refused_naming_it_and_the_tested_one() -> None:
    with pytest.raises(UntestedVersion) as refused:
        check({"moto": "5.1.0"})

    message = str(refused.value)
    assert "moto 5.1.0" in message
    assert "5.2.5" in message
    assert "local_runtime.patches.versions.TESTED" in message


def test_a_missing_moto_is_refused_as_not_installed() -> None:
    with pytest.raises(UntestedVersion, match=r"moto \(not installed\)"):
        check({})


def test_applying_the_patches_on_an_untested_moto_fails_loudly_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(versions, "version", lambda name: "5.1.0")

    with pytest.raises(UntestedVersion, match=r"^moto 5\.1\.0: "):
        patches.apply()
