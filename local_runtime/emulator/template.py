"""Reading template.yaml and resolving it to local names, so local and cloud never drift."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": "order-saga-local",
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    """module.attribute, as Lambda reads it"""
    environment: dict[str, str]
    timeout: int

    @property
    def arn(self) -> str:
        return function_arn(self.logical_id)


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    properties: dict[str, Any]


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def state_machine_arn(logical_id: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"


class Template:
    """template.yaml with every intrinsic resolved to what the local runtime creates."""

    def __init__(self, path: Path = TEMPLATE, parameters: dict[str, str] | None = None) -> None:
        """``parameters`` override the template's defaults, as ``sam deploy
        --parameter-overrides`` would."""
        self.path = path
        # The SAM CLI's own reader: it turns !Ref, !GetAtt, !Sub... into their long forms.
        decoded = yaml_parse(path.read_text())
        if not isinstance(decoded, dict) or "Resources" not in decoded:
            raise ValueError(f"{path} is not a template with Resources")
        self.raw: dict[str, Any] = decoded
        self.resources: dict[str, dict[str, Any]] = decoded["Resources"]
        declared = decoded.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        for name, value in (parameters or {}).items():
            allowed = declared.get(name, {}).get("AllowedValues")
            if name not in declared or (allowed and value not in allowed):
                raise ValueError(f"parameter {name}={value!r} is not one the template allows")
            self.parameters[name] = value

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def functions(self) -> dict[str, FunctionSpec]:
        defaults = self.raw.get("Globals", {}).get("Function", {})
        specs = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            environment = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=self.path.parent / props["CodeUri"],
                handler=props.get("Handler", defaults.get("Handler")),
                environment={k: str(self.resolve(v)) for k, v in environment.items()},
                timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
            )
        return specs

    def tables(self) -> dict[str, TableSpec]:
        return {
            logical_id: TableSpec(logical_id, self.ref(logical_id), resource["Properties"])
            for logical_id, resource in self.of_type("AWS::DynamoDB::Table").items()
        }

    def api_routes(self, logical_id: str) -> list[tuple[str, str]]:
        """(METHOD, resource path) of each route in the Api's OpenAPI DefinitionBody."""
        body = self.resources[logical_id]["Properties"]["DefinitionBody"]
        return [
            (method.upper(), path)
            for path, methods in body["paths"].items()
            for method in methods
            if not method.startswith("x-")
        ]

    def state_machine(self, logical_id: str) -> tuple[str, dict[str, Any]]:
        """The state machine's name and its ASL with DefinitionSubstitutions applied."""
        props = self.resources[logical_id]["Properties"]
        text = (self.path.parent / props["DefinitionUri"]).read_text()
        substitutions = {
            key: str(self.resolve(value))
            for key, value in props.get("DefinitionSubstitutions", {}).items()
        }

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in substitutions:
                raise KeyError(f"{props['DefinitionUri']} uses ${{{name}}}, not substituted")
            return substitutions[name]

        return logical_id, json.loads(re.sub(r"\$\{([A-Za-z0-9_]+)\}", substitute, text))

    # -- intrinsic functions -----------------------------------------------------------

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        resource_type = self.resources[name]["Type"]
        if resource_type == "AWS::Serverless::StateMachine":
            return state_machine_arn(name)
        if resource_type == "AWS::Serverless::Function":
            return name
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if resource_type == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        if resource_type == "AWS::Events::EventBus":
            return self.bus_name(name)
        return name

    def bus_name(self, logical_id: str) -> str:
        """An event bus is named in the template (Name is required), not after its id."""
        return str(self.resolve(self.resources[logical_id]["Properties"]["Name"]))

    def get_att(self, name: str, attribute: str) -> str:
        resource_type = self.resources[name]["Type"]
        if attribute == "Arn":
            if resource_type == "AWS::Serverless::Function":
                return function_arn(name)
            if resource_type == "AWS::Serverless::StateMachine":
                return state_machine_arn(name)
            if resource_type == "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if resource_type == "AWS::SQS::Queue":
                return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            if resource_type == "AWS::SNS::Topic":
                return self.ref(name)
            if resource_type == "AWS::Events::EventBus":
                return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{self.bus_name(name)}"
        if attribute == "Name":
            return self.bus_name(name) if resource_type == "AWS::Events::EventBus" else name
        if attribute in ("QueueName", "TopicName"):
            return name
        raise KeyError(f"the local runtime cannot resolve !GetAtt {name}.{attribute}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                name, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                text, extra = (value, {}) if isinstance(value, str) else value
                local = {k: self.resolve(v) for k, v in extra.items()}

                def sub(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in local:
                        return str(local[name])
                    if "." in name:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return re.sub(r"\$\{([A-Za-z0-9_:.]+)\}", sub, text)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(self.resolve(part)) for part in parts)
        if isinstance(node, dict):
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node
