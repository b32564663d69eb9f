"""``python -m bench``: the same command line as ``djbench`` (bench.cli.main)."""

import sys

from bench.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
