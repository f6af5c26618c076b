"""The command-line tools on the local runtime (`python -m local_runtime <command>`).

demo.py        four sample orders, printed (make demo)
serve.py       the API, the console and the local pages on 127.0.0.1:3000 (make serve)
reliability/   contention and faults at every step, judged (make reliability)
seed.py        the sample catalog into a deployed stack (make seed)
diagram.py     the state machine's diagram into the docs (make diagram)
"""
