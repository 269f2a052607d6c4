"""Write the latest bench/results.json into README.md, between the bench markers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def section(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Latest run: {results['generated_at']}, Python {machine['python']}, {machine['cpus']} CPUs, {machine['platform']}.",
        "",
    ]
    if "cold_start" in results:
        lines += [
            "Cold start (a fresh process imports the handler and serves its first sample event; median of "
            f"{results['cold_start'][0]['runs']} runs"
            + (f"; {results['cold_start_python']}" if results.get("cold_start_python") else "")
            + "; budget ≤ 1.3x the baseline):",
            "",
            "| function | Tenancy ms | baseline ms | ratio |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['function']} | {r['tenancy_ms']} | {r['baseline_ms']} | {r['ratio']} |"
            for r in results["cold_start"]
        ]
        lines.append("")
        floor = results.get("cold_start_floor")
        if floor:
            lines += [
                f"Stack floor, measured beside them: the {floor['function']} baseline plus only pydantic (one "
                f"model validated) and Powertools' Logger and Metrics decorators takes {floor['floor_ms']} ms, "
                f"{floor['ratio']}x its baseline, before any of Tenancy's code; Tenancy's {floor['function']} "
                f"is {floor['tenancy_over_floor']}x that floor.",
                "",
            ]
    if "warm_latency" in results:
        lines += [
            f"Warm latency per route ({results['warm_latency'][0]['requests']} in-process requests each; budget p50 ≤ 1.5x) "
            "and the AWS calls each request makes (counted through botocore's event hooks):",
            "",
            "| route | p50 ms | p99 ms | baseline p50 ms | ratio | AWS calls |",
            "|---|---|---|---|---|---|",
        ]
        for r in results["warm_latency"]:
            calls = ", ".join(f"{k.split(':')[1]} x {v}" for k, v in r["aws_calls"].items())
            lines.append(
                f"| `{r['route']}` | {r['p50_ms']} | {r['p99_ms']} | {r['baseline_p50_ms'] or '-'} | {r['ratio_p50'] or '-'} | {calls} |"
            )
        lines.append("")
    if "scale" in results:
        s = results["scale"]
        lines += [
            f"One tenant's reads with {s['tenants_small']} and with {s['tenants_large']} tenants in the pool table "
            f"(budget ≤ 1.2): list p50 {s['list_p50_ms'][0]} → {s['list_p50_ms'][1]} ms (x{s['list_ratio']}), "
            f"get p50 {s['get_p50_ms'][0]} → {s['get_p50_ms'][1]} ms (x{s['get_ratio']}). "
            f"`POST /tenants` (one transaction) with {s['tenants_small']} and with {s['tenants_large']} tenants "
            f"in the control table: p50 {s['create_p50_ms'][0]} → {s['create_p50_ms'][1]} ms (x{s['create_ratio']}).",
            "",
        ]
    if "onboarding" in results:
        o = results["onboarding"]
        lines += [
            f"Onboarding through the local cloud over HTTP, `201` → `PROVISIONED` for {o['tenants']} pool tenants: "
            f"p50 {o['provisioned_after_201_p50_ms']} ms, p95 {o['provisioned_after_201_p95_ms']} ms, one at a time; "
            f"{o['concurrent_clients']} concurrent clients registering {o['throughput_tenants']} tenants: "
            f"{o['tenants_per_second']} tenants/s, p50 {o.get('under_load_p50_ms', '-')} ms and "
            f"p95 {o.get('under_load_p95_ms', '-')} ms from `201` to `PROVISIONED` (the tenants' own timestamps).",
            "",
        ]
    if results.get("layer_bytecode", {}).get("runs"):
        b = results["layer_bytecode"]
        lines += [
            f"Layer bytecode: on the runtime's Python ({b['interpreter']}, bytecode never written, as on Lambda), "
            f"{b['handler']}'s handler imports in {b['import_with_bytecode_ms']} ms with the bytecode the layer ships "
            f"and in {b['import_source_only_ms']} ms from source alone: {b['saved_ms']} ms saved on every cold start.",
            "",
        ]
    if "package_size" in results:
        layer, *functions = results["package_size"]
        largest = max(functions, key=lambda r: r["unzipped_kb"])
        lines += [
            f"Package size: the shared layer, bytecode included, is {layer['zipped_kb'] / 1024:.1f} MB zipped and {layer['unzipped_kb'] / 1024:.1f} MB "
            f"unzipped ({layer['share_of_250mb_limit'] * 100:.1f}% of Lambda's 250 MB), with no boto3/botocore "
            f"(the runtime provides them: {layer['runtime_provided_packages_bundled'] or 'none bundled'}); the largest function's "
            f"own code is {largest['unzipped_kb']} KB ({largest['package']}).",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print("README.md has no bench markers", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{section(results)}\n{END}{tail}")
    print("README.md: benchmark section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
