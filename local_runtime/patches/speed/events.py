"""Speed shortcut for moto's EventBridge: a target's input paths parsed once.

For every event it delivers to a target, moto builds the target's input (its
InputTransformer, or the default one of nine paths: id, source, detail, ...) by parsing
each JSONPath with jsonpath_ng, and the parser builds its yacc tables every time: four
fifths of the cost of a PutEvents to a rule with one SQS target (the local tap). A
parsed path holds no state of its own, so one is kept per path; what is found with it
is the same.
"""

from __future__ import annotations

from local_runtime.patches.patching import cached, patch


def apply() -> None:
    import jsonpath_ng.ext

    # moto's EventTemplateParser.parse imports it from this module on every call.
    patch(jsonpath_ng.ext, "parse", cached)
