"""The SAM template agrees with the code, the state machine definition and the lock file.

The template is read with cfn-lint's decoder so that !Ref, !GetAtt and !Sub come back as
their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}) instead of breaking a plain YAML load.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local_runtime.emulator.template import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SHARED_LAYER = ROOT / "layers" / "shared"
LAYER_REQUIREMENTS = SHARED_LAYER / "requirements.txt"
LOCK_FILE = ROOT / "requirements.lock"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
LAYER_PACKAGES = ("aws-lambda-powertools", "pydantic")
FAKE_ACCOUNT = "123456789012"
REGION = "us-east-1"


def _load_template() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE_PATH))
    if matches or template is None:
        raise AssertionError(f"{TEMPLATE_PATH.name} does not parse: {matches}")
    return template


TEMPLATE = _load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(
    name for name, res in RESOURCES.items() if res["Type"] == "AWS::Serverless::Function"
)


def _state_machine() -> tuple[str, dict[str, Any]]:
    machines = [
        (name, res["Properties"])
        for name, res in RESOURCES.items()
        if res["Type"] == "AWS::Serverless::StateMachine"
    ]
    assert len(machines) == 1, f"expected one AWS::Serverless::StateMachine, found {machines}"
    return machines[0]


def _asl_text() -> str:
    _, props = _state_machine()
    path = ROOT / props["DefinitionUri"]
    assert path.is_file(), f"DefinitionUri {props['DefinitionUri']} does not exist"
    return path.read_text(encoding="utf-8")


def _states(states: dict[str, Any]):
    """Every state, including those nested in Parallel branches and Map processors."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _states(state[key]["States"])


def _invoked_placeholders(definition: dict[str, Any]) -> dict[str, str]:
    """Placeholder name -> state name, for each Task state that invokes a Lambda function,
    written either as Resource "${XFunctionArn}" or as the lambda:invoke integration with
    a "${XFunctionArn}" FunctionName."""
    invoked: dict[str, str] = {}
    for name, state in _states(definition["States"]):
        if state.get("Type") != "Task":
            continue
        resource = state.get("Resource", "")
        targets = [resource]
        if resource.endswith(":lambda:invoke") or ":lambda:invoke." in resource:
            for key in ("Parameters", "Arguments"):
                arguments = state.get(key)
                if isinstance(arguments, dict):
                    targets.append(str(arguments.get("FunctionName", "")))
        for target in targets:
            for placeholder in PLACEHOLDER.findall(target):
                if placeholder.endswith("FunctionArn"):
                    invoked[placeholder] = name
    return invoked


def _getatt_target(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict) or set(value) != {"Fn::GetAtt"}:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    return str(target[0]), str(target[1])


def _lambda_invoke_policy_targets(policies: list[Any]) -> set[str]:
    targets: set[str] = set()
    for policy in policies:
        if isinstance(policy, dict) and "LambdaInvokePolicy" in policy:
            name = policy["LambdaInvokePolicy"]["FunctionName"]
            if isinstance(name, dict) and set(name) == {"Ref"}:
                targets.add(str(name["Ref"]))
            else:
                targets.add(json.dumps(name))
    return targets


def _placeholder_value(value: Any) -> str:
    """A stand-in for an intrinsic function in an environment variable."""
    if not isinstance(value, dict):
        return str(value)
    if set(value) == {"Ref"}:
        target = str(value["Ref"])
        if RESOURCES.get(target, {}).get("Type") == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{REGION}:{FAKE_ACCOUNT}:stateMachine:{target}"
        return f"{target}-test"
    getatt = _getatt_target(value)
    if getatt:
        return f"arn:aws:cloudformation:{REGION}:{FAKE_ACCOUNT}:{getatt[0]}/{getatt[1]}"
    return "test-value"


def _environment(logical_id: str) -> dict[str, str]:
    variables = dict(
        TEMPLATE.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    variables.update(
        RESOURCES[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    )
    return {name: _placeholder_value(value) for name, value in variables.items()}


def _pins(lines: list[str]) -> dict[str, set[str]]:
    """Canonical package name -> versions pinned with == (extras and markers ignored)."""
    pins: dict[str, set[str]] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("-"):
            continue
        line = re.sub(r"\s--hash=\S+", "", line)
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        version = specs[0].version if len(specs) == 1 and specs[0].operator == "==" else ""
        pins.setdefault(canonicalize_name(requirement.name), set()).add(version)
    return pins


@pytest.fixture
def isolated_code_dir():
    """Forget modules imported from a function's folder afterwards: every folder is its own
    Lambda task root, so same-named sibling modules must not leak between functions."""
    folders: list[Path] = []
    yield folders.append
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and any(Path(origin).resolve().is_relative_to(f) for f in folders):
            del sys.modules[name]


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_handler_is_a_callable_in_its_code_uri(
    logical_id, monkeypatch, isolated_code_dir
):
    props = RESOURCES[logical_id]["Properties"]
    code_dir = (ROOT / props["CodeUri"]).resolve()
    module_path, _, attribute = props["Handler"].rpartition(".")
    source = code_dir / (module_path.replace(".", "/") + ".py")
    assert source.is_file(), (
        f"{logical_id}: Handler {props['Handler']} needs {source.relative_to(ROOT)}"
    )

    for name, value in _environment(logical_id).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # Stand-in credentials: anything the module does at import must never reach a real account.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.syspath_prepend(str(SHARED_LAYER))
    monkeypatch.syspath_prepend(str(code_dir))
    isolated_code_dir(code_dir)

    unique_name = f"_template_handler_{logical_id}"
    spec = importlib.util.spec_from_file_location(unique_name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, unique_name, module)
    spec.loader.exec_module(module)

    handler = getattr(module, attribute, None)
    assert callable(handler), f"{logical_id}: {source.relative_to(ROOT)} has no {attribute}()"


def test_every_asl_placeholder_is_a_definition_substitution():
    _, props = _state_machine()
    used = set(PLACEHOLDER.findall(_asl_text()))
    missing = used - set(props.get("DefinitionSubstitutions", {}))
    assert not missing, f"placeholders with no DefinitionSubstitutions entry: {sorted(missing)}"


def test_every_definition_substitution_is_used_by_the_asl():
    _, props = _state_machine()
    used = set(PLACEHOLDER.findall(_asl_text()))
    unused = set(props.get("DefinitionSubstitutions", {})) - used
    assert not unused, f"DefinitionSubstitutions the ASL never uses: {sorted(unused)}"


def _invoked_functions() -> dict[str, str]:
    """Function logical id -> placeholder, for each Lambda the ASL invokes."""
    _, props = _state_machine()
    invoked = _invoked_placeholders(json.loads(_asl_text()))
    assert invoked, "the ASL invokes no Lambda through a ${...FunctionArn} placeholder"
    substitutions = props.get("DefinitionSubstitutions", {})
    functions: dict[str, str] = {}
    for placeholder, state in sorted(invoked.items()):
        assert placeholder in substitutions, f"{state}: ${{{placeholder}}} is not substituted"
        target = _getatt_target(substitutions[placeholder])
        assert target is not None, f"{placeholder} is not a !GetAtt: {substitutions[placeholder]}"
        function, attribute = target
        assert attribute == "Arn", f"{placeholder} is !GetAtt {function}.{attribute}, not .Arn"
        assert RESOURCES.get(function, {}).get("Type") == "AWS::Serverless::Function", (
            f"{placeholder} points at {function}, which is no AWS::Serverless::Function"
        )
        functions[function] = placeholder
    return functions


def test_every_lambda_the_asl_invokes_is_a_template_function_the_state_machine_may_invoke():
    _, props = _state_machine()
    allowed = _lambda_invoke_policy_targets(props.get("Policies", []))
    without_policy = sorted(set(_invoked_functions()) - allowed)
    assert not without_policy, f"no LambdaInvokePolicy for: {without_policy}"


def test_the_state_machine_may_invoke_only_the_lambdas_the_asl_invokes():
    _, props = _state_machine()
    allowed = _lambda_invoke_policy_targets(props.get("Policies", []))
    surplus = sorted(allowed - set(_invoked_functions()))
    assert not surplus, f"LambdaInvokePolicy for functions the ASL never invokes: {surplus}"


def test_every_function_runs_python313_on_arm64_as_set_in_globals():
    function_globals = TEMPLATE.get("Globals", {}).get("Function", {})
    assert function_globals.get("Runtime") == "python3.13"
    assert function_globals.get("Architectures") == ["arm64"]
    overrides = {
        name: {k: RESOURCES[name]["Properties"][k] for k in ("Runtime", "Architectures")}
        for name in FUNCTIONS
        if {"Runtime", "Architectures"} & set(RESOURCES[name]["Properties"])
    }
    assert not overrides, f"functions overriding the Globals runtime or architecture: {overrides}"


def test_the_layer_pins_powertools_and_pydantic_at_the_versions_in_the_lock():
    layer = _pins(LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    lock = _pins(LOCK_FILE.read_text(encoding="utf-8").splitlines())
    for package in LAYER_PACKAGES:
        name = canonicalize_name(package)
        assert name in lock, f"requirements.lock does not pin {package}"
        assert len(lock[name]) == 1 and "" not in lock[name], (
            f"requirements.lock pins {package} ambiguously: {lock[name]}"
        )
        assert layer.get(name) == lock[name], (
            f"{package}: layer pins {layer.get(name)}, requirements.lock pins {lock[name]}"
        )


def test_every_layer_requirement_is_pinned_to_a_version_in_the_lock():
    layer = _pins(LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    lock = _pins(LOCK_FILE.read_text(encoding="utf-8").splitlines())
    assert layer, "layers/shared/requirements.txt pins nothing"
    mismatched = {
        name: (sorted(versions), sorted(lock.get(name, set())))
        for name, versions in layer.items()
        if "" in versions or not versions <= lock.get(name, set())
    }
    assert not mismatched, f"layer pin vs lock (unpinned shows as ''): {mismatched}"


def test_cfn_lint_reports_nothing_about_the_template():
    matches = lint_file(TEMPLATE_PATH)
    assert not matches, "\n".join(str(match) for match in matches)


def test_the_workflow_type_is_a_parameter_standard_unless_chosen_otherwise():
    _, props = _state_machine()
    parameter = TEMPLATE["Parameters"]["WorkflowType"]

    assert props["Type"] == {"Ref": "WorkflowType"}
    assert parameter["Default"] == "STANDARD"
    assert sorted(parameter["AllowedValues"]) == ["EXPRESS", "STANDARD"]


def test_the_local_runtime_creates_the_workflow_type_chosen_and_refuses_others():
    _, props = _state_machine()
    chosen = Template(parameters={"WorkflowType": "EXPRESS"})

    assert chosen.resolve(props["Type"]) == "EXPRESS"
    assert Template().resolve(props["Type"]) == "STANDARD"
    with pytest.raises(ValueError, match="WorkflowType"):
        Template(parameters={"WorkflowType": "EXPRESSO"})


def test_only_the_inventory_steps_touch_snapshots_and_only_of_product_streams():
    snapshots = RESOURCES["SnapshotTable"]["Properties"]
    assert "StreamSpecification" not in snapshots  # the async consumers read only events

    for name in FUNCTIONS:
        props = RESOURCES[name]["Properties"]
        variables = props.get("Environment", {}).get("Variables", {})
        statements = [
            statement
            for policy in props.get("Policies", [])
            if isinstance(policy, dict)
            for statement in policy.get("Statement", [])
            if statement.get("Resource") == {"Fn::GetAtt": ["SnapshotTable", "Arn"]}
        ]
        if name in ("ReserveInventoryFunction", "ReleaseInventoryFunction"):
            assert variables.get("SNAPSHOT_TABLE") == {"Ref": "SnapshotTable"}
            (statement,) = statements
            assert sorted(statement["Action"]) == ["dynamodb:GetItem", "dynamodb:PutItem"]
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert keys == ["product#*"]
        else:
            assert "SNAPSHOT_TABLE" not in variables and not statements, name
