"""The paired and the unpaired 95% interval of each paired verdict of a run.

``python tools/pairing_widths.py RUN_DIR`` prints, per verdict the run
measured back to back, each metric's ratio with the half-width of its
unpaired (Welch over repeats) and its paired (per-pass ratios) interval.
Both come from the same windows, so they compare the two analyses at equal
measuring time (README, "make bench").
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.analyse.stats import half_width
from bench.report import contents


def width(ratio: float | None, low: float | None, high: float | None) -> str:
    found = half_width(low, high)
    return "not tested" if found is None or ratio is None else f"x{ratio:.2f} +-{found:.1%}"


def main() -> None:
    report = contents.read(Path(sys.argv[1]))
    for scenario, rows in report.verdicts.items():
        for row in rows:
            if row.pairing != "paired" or row.unpaired is None:
                continue
            parts = [
                f"{name}: unpaired {width(u.ratio, u.ci_low, u.ci_high)}, "
                f"paired {width(m.ratio, m.ci_low, m.ci_high)}"
                for name, m in row.metrics.items()
                for u in [row.unpaired[name]]
            ]
            print(f"{scenario}: {row.question}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
