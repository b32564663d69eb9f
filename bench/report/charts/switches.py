"""The switch-cost fit: server CPU per request against sync/async switches per
request, with the fitted lines, to show what one switch costs."""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from bench.analyse.switchfit import Fit, Point
from bench.report import style

SLOPE_LABELS = {
    "sync_to_async": "sync_to_async switches per request",
    "async_to_sync_warm": "async_to_sync switches per request (to a running loop)",
    "async_to_sync_new_loop": "async_to_sync switches per request (new event loop)",
}


def switch_fit(points: list[Point], fit: Fit, label: str, stem: Path) -> list[Path]:
    """CPU ms per request against switches per request, with the fitted lines.

    One panel per kind of switch. Each removes the fitted effect of the other
    kinds (a partial-residual view), so its points sit on the lines exactly
    when the model is right; one line per fixed-cost group (server, endpoint).
    """
    kinds = [name for name in SLOPE_LABELS if name in fit.slopes_us]
    slopes = {name: fit.slopes_us[name]["us_per_switch"] / 1000 for name in kinds}
    figure, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 5.2), squeeze=False)
    for axis, kind in zip(axes[0], kinds, strict=True):
        for point in points:
            server, endpoint = point.group.split("/")[:2]
            others = sum(slopes[o] * getattr(point, o) for o in kinds if o != kind)
            axis.scatter(
                getattr(point, kind),
                point.cpu_ms - others,
                s=28,
                alpha=0.8,
                marker="o" if endpoint == "json" else "^",
                color=style.colour(server),
                facecolors="none" if point.loadgen_bound else style.colour(server),
            )
        top = max((getattr(p, kind) for p in points), default=1) or 1
        for group, fixed in fit.fixed_ms.items():
            axis.plot(
                [0, top],
                [fixed, fixed + slopes[kind] * top],
                linewidth=1,
                alpha=0.6,
                color=style.colour(group.split("/")[0]),
            )
        value = fit.slopes_us[kind]
        axis.set_title(
            f"{value['us_per_switch']:.0f} µs per switch "
            f"(95% CI {value['ci_low_us']:.0f} to {value['ci_high_us']:.0f})",
            fontsize=9,
        )
        axis.set_xlabel(SLOPE_LABELS[kind], fontsize=9)
        axis.set_ylabel("server CPU per request (ms), other switches removed", fontsize=9)
        axis.grid(alpha=0.3)
    servers = sorted({p.group.split("/")[0] for p in points})
    handles = [
        Line2D([], [], color=style.colour(s), marker="o", linestyle="", label=s) for s in servers
    ]
    handles += [
        Line2D([], [], color="black", marker="o", linestyle="", label="json endpoint"),
        Line2D([], [], color="black", marker="^", linestyle="", label="db endpoint"),
        Line2D([], [], color="black", linestyle="-", label="fit, one line per server/endpoint"),
    ]
    if any(p.loadgen_bound for p in points):
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                marker="o",
                markerfacecolor="none",
                linestyle="",
                label="load-generator bound",
            )
        )
    figure.legend(
        handles=handles, loc="lower center", ncol=5, frameon=False, bbox_to_anchor=(0.5, -0.06)
    )
    figure.suptitle(
        f"CPU per request against switches per request (R² {fit.r_squared:.3f}) - {label}"
    )
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return common.save(figure, stem)
