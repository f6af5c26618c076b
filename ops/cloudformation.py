"""template.yaml as CloudFormation will deploy it: the SAM transform run offline.

`sam deploy` uploads the code and sends the template to CloudFormation, which expands
every AWS::Serverless::* resource (a function's role and its policies, the API's stage,
the stream's event source mapping). The security checks must judge that expansion, not
the shorthand: the least-privilege test reads the roles it generates, and checkov scans
it next to template.yaml (`make validate`).

Offline, local code paths stand in as S3 URIs, as `sam package` would rewrite them, and no
managed policy is looked up (the template names none by its short name). Each resource's
``Metadata.checkov`` suppressions (with their reasons) go to the resources generated from
it, so a finding explained on a function is explained on its role and mappings too.

    python -m ops.cloudformation template.yaml .aws-sam/checkov/template.json
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
CODE_PATHS = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicies:
    """SAM asks this for the ARNs of managed policies named by their short names."""

    def load(self) -> dict[str, str]:
        return {}


def translate(path: Path = TEMPLATE) -> dict[str, Any]:
    # SAM logs a notice per feature toggle it cannot find; none of them matters offline.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    template = yaml_parse(path.read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in CODE_PATHS:
            value = properties.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                properties[key] = f"s3://local-package/{value.strip('/')}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # SAM reads the partition from it
    translated: dict[str, Any] = transform(copy.deepcopy(template), {}, _NoManagedPolicies())
    _carry_checkov_metadata(template["Resources"], translated["Resources"])
    return translated


def _carry_checkov_metadata(sam: dict[str, Any], translated: dict[str, Any]) -> None:
    """Give each generated resource (named after its SAM resource: ApiFunctionRole,
    OrderApiStage...) the suppressions of the resource it came from."""
    origins = sorted(
        (
            (name, resource["Metadata"]["checkov"])
            for name, resource in sam.items()
            if "checkov" in resource.get("Metadata", {})
        ),
        key=lambda item: len(item[0]),
        reverse=True,
    )
    for name, resource in translated.items():
        if "checkov" in resource.get("Metadata", {}):
            continue
        for origin, suppressions in origins:
            if name.startswith(origin):
                resource.setdefault("Metadata", {})["checkov"] = suppressions
                break


def main(argv: list[str] | None = None) -> int:
    source, target = (argv if argv is not None else sys.argv[1:]) or (str(TEMPLATE), "-")
    translated = translate(Path(source))
    text = json.dumps(translated, indent=1, default=str)
    if target == "-":
        print(text)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
