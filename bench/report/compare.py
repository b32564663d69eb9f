"""``bench compare A B``: did B change anything, per cell, and is it significant?

Like pyperf's compare_to: the ratio B/A of throughput, p99 and CPU per
request for every cell both runs measured, as a ratio of geometric means over
the repeats with its 95% interval and Welch's t-test on log values (the same
bench.analyse.verdicts.compare_cells a report uses), Holm-corrected across every row
of the comparison, and "not significant" said plainly. A p99 that a repeat has
too few samples for is shown as such, not as a number. Runs whose scenario
definitions differ are refused unless forced; a different machine or different
versions are printed as warnings above the table, because that is usually the
change being measured, but the reader must know.
"""

from pathlib import Path

from bench.analyse.groups import repeat_values
from bench.analyse.verdicts import METRICS, compare_cells, correct, metric_text, record
from bench.errors import BenchError
from bench.report.charts.comparison import comparison
from bench.results import store as results
from bench.results.records import RunDocument
from bench.results.rows import ComparisonRow


def attribute(document: RunDocument, path: tuple[str, ...]) -> object:
    """The field at ``path`` of run.json's typed document, None where a level is absent."""
    value: object = document
    for name in path:
        value = getattr(value, name, None) if value is not None else None
    return value


ENVIRONMENT_KEYS = (
    ("python", ("metadata", "python")),
    ("CPU model", ("metadata", "machine", "cpu_model")),
    ("logical CPUs", ("metadata", "machine", "logical_cpus")),
    ("kernel", ("metadata", "machine", "kernel")),
    ("hostname", ("metadata", "machine", "hostname")),
    ("database", ("metadata", "database", "engine")),
    ("window (s)", ("options", "duration_s")),
    ("repeats", ("options", "repeats")),
    ("server CPUs", ("options", "server_cpus")),
    ("locust CPUs", ("options", "loadgen_cpus")),
    ("workers", ("options", "workers")),
    ("gthread threads", ("options", "threads")),
    ("switch accounting", ("options", "switch_accounting")),
)


def definition_differences(a: results.Run, b: results.Run) -> list[str]:
    """Scenarios both runs used whose files differ."""
    first, second = a.document.matrix.scenarios, b.document.matrix.scenarios

    def digest(definition: object) -> object:
        return definition.get("sha256") if isinstance(definition, dict) else None

    return [
        name
        for name in sorted(set(first) & set(second))
        if digest(first[name]) != digest(second[name])
    ]


def environment_differences(a: results.Run, b: results.Run) -> list[str]:
    warnings = []
    for name, keys in ENVIRONMENT_KEYS:
        first, second = attribute(a.document, keys), attribute(b.document, keys)
        if first != second:
            warnings.append(f"{name}: {first} -> {second}")
    packages_a, packages_b = a.document.metadata.packages, b.document.metadata.packages
    for package in sorted(set(packages_a) | set(packages_b)):
        if packages_a.get(package) != packages_b.get(package):
            warnings.append(f"{package}: {packages_a.get(package)} -> {packages_b.get(package)}")
    commit_a, commit_b = a.document.metadata.git.commit, b.document.metadata.git.commit
    if commit_a != commit_b:
        warnings.append(f"git commit: {(commit_a or '?')[:12]} -> {(commit_b or '?')[:12]}")
    return warnings


def compare_runs(a: results.Run, b: results.Run) -> list[ComparisonRow]:
    """B against A for every cell both ran, Holm-corrected across all of them."""
    rows = []
    for cell_id in sorted(set(a.documents) & set(b.documents)):
        first, second = a.documents[cell_id], b.documents[cell_id]
        row = ComparisonRow(cell=cell_id, loadgen_bound=first.loadgen_bound or second.loadgen_bound)
        for name, keys in METRICS:
            # The raw repeat values stay in compare.json even when no ratio is shown.
            row.values[name] = (
                sorted(repeat_values(first, keys)),
                sorted(repeat_values(second, keys)),
            )
            row.metrics[name] = record(compare_cells(first, second, keys))
        rows.append(row)
    correct(rows)
    return rows


def markdown(
    a: results.Run,
    b: results.Run,
    rows: list[ComparisonRow],
    warnings: list[str],
    only_a: list[str],
    only_b: list[str],
) -> str:
    lines = [f"# {b.path.name} compared with {a.path.name}", ""]
    if warnings:
        lines += ["**The runs differ in more than the change under test:**", ""]
        lines += [f"- {warning}" for warning in warnings] + [""]
    lines += [
        "Ratios are B / A of the geometric means over repeats, with their 95% interval "
        "(Welch's t on log values, unadjusted); significant means p < 0.05 after Holm's "
        "correction across every ratio in this table.",
        "",
    ]
    lines += ["| cell | throughput | p99 | CPU/request |", "|---|---|---|---|"]
    for row in rows:
        bound = " (loadgen-bound)" if row.loadgen_bound else ""
        cells = " | ".join(metric_text(row.metrics[name], 3) for name, _ in METRICS)
        lines.append(f"| `{row.cell}`{bound} | {cells} |")
    if not rows:
        lines.append("| (no cell was measured by both runs) | | | |")
    for title, ids in (("Only in A", only_a), ("Only in B", only_b)):
        if ids:
            lines += ["", f"{title}: " + ", ".join(f"`{cell}`" for cell in ids)]
    return "\n".join(lines) + "\n"


def execute(path_a: Path, path_b: Path, *, force: bool, results_root: Path) -> tuple[Path, str]:
    a, b = results.read_run(path_a), results.read_run(path_b)
    differing = definition_differences(a, b)
    if differing and not force:
        raise BenchError(
            f"the runs used different definitions of scenario(s) {', '.join(differing)}; "
            "their cells are not comparable (pass --force to compare anyway)"
        )
    warnings = environment_differences(a, b)
    if differing:
        warnings.insert(0, f"scenario definitions differ (forced): {', '.join(differing)}")
    rows = compare_runs(a, b)
    only_a = sorted(set(a.cells) - set(b.cells))
    only_b = sorted(set(b.cells) - set(a.cells))
    out = results.create_run_dir(results_root, f"compare-{a.path.name}-vs-{b.path.name}")
    text = markdown(a, b, rows, warnings, only_a, only_b)
    (out / "compare.md").write_text(text)
    results.write_json(
        out / "compare.json",
        {
            "schema_version": results.SCHEMA_VERSION,
            "a": str(a.path),
            "b": str(b.path),
            "warnings": warnings,
            "rows": [row.to_json() for row in rows],
            "only_in_a": only_a,
            "only_in_b": only_b,
        },
    )
    if rows:
        comparison(a, b, rows, out / "charts" / "comparison")
    return out, text
