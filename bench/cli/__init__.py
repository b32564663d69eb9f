"""The command line on top: ``djbench`` / ``python -m bench``.

``main`` parses and dispatches; ``parser`` assembles the arguments of every
module in ``commands`` (one per command: its arguments and its body);
``arguments`` and ``options`` hold what ``run`` and ``soak`` share; what any
command prints is worded in ``formatter``. May import every package.
"""
