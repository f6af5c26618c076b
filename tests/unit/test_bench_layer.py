"""The cold start bench reads the layer's requirements file as pip does."""

from __future__ import annotations

from packaging.requirements import Requirement

from bench.coldstart import layer_requirements


def test_hashed_and_continued_lines_read_as_one_requirement_each() -> None:
    text = (
        "# a comment\n"
        "annotated-types==0.8.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        'wrapt==1.17.3 ; python_version >= "3.11" \\\n'
        "    --hash=sha256:cccc\n"
    )

    assert layer_requirements(text) == [
        "annotated-types==0.8.0",
        'wrapt==1.17.3 ; python_version >= "3.11"',
    ]


def test_the_layer_file_pins_every_package_of_its_closure_exactly() -> None:
    requirements = [Requirement(line) for line in layer_requirements()]

    names = {requirement.name for requirement in requirements}
    assert {"aws-lambda-powertools", "pydantic", "botocore"} <= names
    assert all(str(r.specifier).startswith("==") for r in requirements)
