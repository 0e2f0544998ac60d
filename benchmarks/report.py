"""The table, the ratios against the targets, and the JSON of the same figures."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from .arms import WORKLOAD_TITLES

TARGETS = {
    "rest_cpu_ms_per_request": ("<=", 0.10, "REST CPU per request, ms (GET 1 KB, one process)"),
    "rest_vs_nginx_throughput": (">=", 0.25, "REST throughput / nginx proxy_pass, one process vs one worker (GET 1 KB; 0.5 the goal that stands)"),
    "rest2_vs_nginx2_throughput": (">=", 0.25, "REST --workers 2 throughput / nginx worker_processes 2 (GET 1 KB)"),
    "rest_added_p50_ms": ("<=", 1.0, "REST added p50 over direct, ms (GET 1 KB, lowest fixed rate)"),
    "mcp_vs_fastmcp_throughput": (">=", 3.0, "MCP tools/call throughput / FastMCP's (GET 1 KB)"),
    "cold_start_s": ("<=", 1.0, "cold start of `naftiko run` to the first answer, s"),
    "validate_vs_libyaml_parse": ("<=", 3.0, "`naftiko validate` of 1,000 corpus files / parsing them with libyaml"),
    "rest_rss_mb": ("<=", 80.0, "peak RSS serving one capability (REST arm), MB"),
    "seed_rss_mb": ("<=", 80.0, "RSS of `naftiko run capabilities/humanitec-pipelineruns.yaml` (REST + MCP + engine), MB"),
}


def spread(values: list[float]) -> dict[str, float]:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _f(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    arms = results["arms"]

    def rps(arm: str, workload: str = "get1k") -> float | None:
        w = arms.get(arm, {}).get("workloads", {}).get(workload)
        return w["closed"]["rps"]["median"] if w and w.get("closed") else None

    def p50(arm: str, workload: str = "get1k") -> float | None:
        w = arms.get(arm, {}).get("workloads", {}).get(workload)
        measured = [r for r in (w or {}).get("fixed", []) if "p50_ms" in r]
        return min(measured, key=lambda r: r["target_rps"])["p50_ms"] if measured else None

    out: dict[str, Any] = {}
    rest = arms.get("rest", {}).get("workloads", {}).get("get1k") or {}
    if rest.get("cpu_s_per_1k"):
        out["rest_cpu_ms_per_request"] = rest["cpu_s_per_1k"]  # CPU seconds per 1,000 requests = ms per request
    if rps("rest") and rps("nginx"):
        out["rest_vs_nginx_throughput"] = rps("rest") / rps("nginx")
    if rps("rest2") and rps("nginx2"):
        out["rest2_vs_nginx2_throughput"] = rps("rest2") / rps("nginx2")
    if p50("rest") is not None and p50("direct") is not None:
        out["rest_added_p50_ms"] = p50("rest") - p50("direct")
    if rps("mcp") and rps("fastmcp"):
        out["mcp_vs_fastmcp_throughput"] = rps("mcp") / rps("fastmcp")
    extras = results.get("extras", {})
    if "cold_start_s" in extras:
        out["cold_start_s"] = extras["cold_start_s"]["median"]
    if "validate" in extras and "vs_parse" in extras["validate"]:
        out["validate_vs_libyaml_parse"] = extras["validate"]["vs_parse"]["median"]
    rss = arms.get("rest", {}).get("peak_rss_mb")
    if rss:
        out["rest_rss_mb"] = rss
    if "seed_rss_mb" in extras:
        out["seed_rss_mb"] = extras["seed_rss_mb"]["median"]
    verdict = {}
    for key, value in out.items():
        op, target, _ = TARGETS[key]
        verdict[key] = {"value": value, "target": f"{op} {target}", "met": value >= target if op == ">=" else value <= target}
    return verdict


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    rates = sorted({r["target_rps"] for a in results["arms"].values() for w in a.get("workloads", {}).values() for r in w.get("fixed", [])})
    head = ["workload", "arm", "max req/s (median)", "spread", *[f"p50 / p99 ms @{int(r)}/s" for r in rates], "CPU s / 1k req", "peak RSS MB"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for workload, title in WORKLOAD_TITLES.items():
        for name, arm in results["arms"].items():
            if arm.get("skipped"):
                continue
            w = arm.get("workloads", {}).get(workload)
            if w is None:
                continue
            if w.get("error"):
                lines.append(f"| {title} | {name} | failed: {w['error']} |" + " |" * (len(head) - 3))
                continue
            c = w["closed"]["rps"]
            fixed = {r["target_rps"]: r for r in w.get("fixed", [])}
            cells = [title, name, _f(c["median"]), f"{_f(c['min'])}–{_f(c['max'])}"]
            for r in rates:
                f = fixed.get(r)
                if f is None:
                    cells.append("–")
                elif f.get("skipped"):
                    cells.append("over capacity")
                else:
                    cells.append(f"{_f(f['p50_ms'], 2)} / {_f(f['p99_ms'], 2)}")
            cells += [_f(w.get("cpu_s_per_1k"), 3), _f(arm.get("peak_rss_mb"), 1) if name != "direct" else "–"]
            lines.append("| " + " | ".join(cells) + " |")
    skipped = [(n, a["skipped"]) for n, a in results["arms"].items() if a.get("skipped")]
    for name, why in skipped:
        lines.append(f"\nskipped arm {name}: {why}")
    extras = results.get("extras", {})
    lines.append("")
    if "cold_start_s" in extras:
        c = extras["cold_start_s"]
        lines.append(f"cold start `naftiko run` → first 200: {c['median']:.3f} s median ({c['min']:.3f}–{c['max']:.3f}, {c['n']} runs)")
    if "validate" in extras:
        v = extras["validate"]
        p = v["parse"]
        lines.append(f"`naftiko validate` of {v['files']:,} files (the corpus ×{v['copies']}): {v['seconds']['median']:.2f} s median "
                     f"({v['seconds']['min']:.2f}–{v['seconds']['max']:.2f}) vs parsing them with {p['parser']}: "
                     f"{p['seconds']['median']:.2f} s ({p['seconds']['min']:.2f}–{p['seconds']['max']:.2f}); "
                     f"{v['vs_parse']['median']:.1f}× ({v['vs_parse']['min']:.1f}–{v['vs_parse']['max']:.1f}) "
                     f"[schema backend {v['schema_backend']}]")
    if "seed_rss_mb" in extras:
        s = extras["seed_rss_mb"]
        lines.append(f"RSS of `{s['command']}` at ready: {s['median']:.1f} MB median ({s['min']:.1f}–{s['max']:.1f}, {s['n']} runs)")
    if "tools_list" in extras:
        t = extras["tools_list"]
        lines.append(f"tools/list, {t['tools']} tools: {t['ms']['median']:.1f} ms median ({t['ms']['min']:.1f}–{t['ms']['max']:.1f}, "
                     f"{t['bytes']:,} bytes); that capability starts in {t['start_s']:.2f} s")
    for key, why in extras.get("skipped", {}).items():
        lines.append(f"skipped {key}: {why}")
    verdict = results.get("ratios", {})
    if verdict:
        lines.append("")
        lines.append("| target | value | goal | met |")
        lines.append("|---|---|---|---|")
        for key, v in verdict.items():
            lines.append(f"| {TARGETS[key][2]} | {v['value']:.2f} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
