"""dcep's benchmarks: ``python -m benchmarks [names...] [--quick]``.

Each benchmark is a module with a ``NAME`` and a ``run(context)`` that
returns a :class:`~benchmarks._common.Result`: figures printed with a
baseline measured in the same run, and written to
``benchmarks/results/<name>.json``.  See ``benchmarks/README.md``.
"""
