"""The command line on top: ``djbench`` / ``python -m bench``.

``main`` parses the arguments and dispatches to one function per command; it
may import every package. What the commands print is formatted apart.
"""
