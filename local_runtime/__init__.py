"""The local runtime: the real ASL and the real handlers on moto, without Docker or AWS.

See runtime.LocalRuntime. Everything it builds comes from template.yaml.
"""
