"""The local runtime: the real ASL and the real handlers on moto, without Docker or AWS.

See runtime.LocalRuntime, which composes the rest; everything it builds comes from
template.yaml.

    runtime.py         LocalRuntime: the whole saga in one process
    sample_catalog.py  the sample shop (used by the console, the tools, bench and tests)
    emulator/          the AWS services, played locally
    patches/           every change made to third-party code (correctness, speed, hooks)
    console/           the console backend of `make serve`
    tools/             the command-line tools: python -m local_runtime <command>
"""
