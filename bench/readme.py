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
        rows = results["cold_start"]
        lines += [
            "Cold start (a fresh process imports the handler and serves its first sample event; median of "
            f"{rows[0]['runs']} runs"
            + (f"; {results['cold_start_python']}" if results.get("cold_start_python") else "")
            + "). Budget: ≤ "
            + f"{rows[0].get('budget_to_floor', '-')}x the function's stack floor, measured beside it: its "
            "bare-boto3 baseline plus only the Powertools features and pydantic validation the function uses "
            "(bench/baselines/floors/). The ratio to bare boto3 is reported without a budget: no handler on the "
            "stack can be near it.",
            "",
            "| function | Tenancy ms | bare boto3 ms | ratio to boto3 | floor | floor ms | floor / boto3 "
            "| ratio to floor | budget | within |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['function']} | {r['tenancy_ms']} | {r['baseline_ms']} | {r['ratio']} | {r.get('floor', '-')} "
            f"| {r.get('floor_ms', '-')} | {r.get('floor_over_baseline', '-')} | {r.get('ratio_to_floor', '-')} "
            f"| ≤ {r.get('budget_to_floor', '-')} | {_verdict(r.get('within_budget'))} |"
            for r in rows
        ]
        lines.append("")
        floors = results.get("cold_start_floors")
        if floors:
            lines += [
                "Floors: " + "; ".join(f"`{name}` = {what}" for name, what in floors.items()) + ".",
                "",
            ]
    if "import_weight" in results:
        weight = results["import_weight"]
        before, budget = weight["before"], weight["budget"]
        lines += [
            f"Import weight of each handler, by `python -X importtime` ({weight['interpreter']}, median of "
            f"{weight['runs']} runs) against the commit before the layer's restructure ({before['commit'][:7]}, "
            f"{before['runs']} runs, `{before['file']}`). Budget: modules {budget['modules']}; "
            f"{budget['time']}, where the normalized time is the handler's import CPU time divided by that of "
            f"a reference import run beside it (`import {weight.get('reference', '?')}`, fixed third-party code), "
            "each the fastest of the runs, so a busier machine does not read as a heavier import, and "
            f"{budget['time_tolerance']:.0%} is the noise allowed. The importtime milliseconds (wall clock, "
            "median) are shown, not budgeted: on this shared machine they vary by a third between batches"
            + ("" if weight["comparable"] else "; not evaluated: another interpreter than the baseline's")
            + (
                ""
                if weight.get("layer_packages_as_before", True)
                else "; the layer's third-party packages differ from the baseline's"
            )
            + ".",
            "",
            "| function | modules before → now (outside Tenancy) | importtime ms before → now "
            "| import CPU ms before → now "
            "| normalized weight vs before | budget | within |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in weight["functions"]:
            lines.append(
                f"| {_function_before(r)} | {r.get('modules_before', '-')} → {r['modules']} "
                f"({r.get('foreign_modules_before', '-')} → {r.get('foreign_modules', '-')}) "
                f"| {_ms(r.get('import_us_before'))} → {_ms(r['import_us'])} "
                f"| {_ms(r.get('import_cpu_us_before'))} → {_ms(r.get('import_cpu_us'))} "
                f"| {r.get('weight_vs_before', '-')} "
                f"| ≤ {r.get('modules_budget', '-')} modules outside Tenancy, ≤ {r.get('weight_budget', '-')} "
                f"| {_verdict(r.get('within_budget'))} |"
            )
        lines.append("")
    budgets = results.get("budgets")
    if budgets:
        for found in budgets.values():
            if isinstance(found, dict):
                over = ", ".join(found["over"]) or "none"
                lines.append(
                    f"- {found['budget']}: {len(found['within'])} within, over: {over}"
                    + (
                        f", not evaluated: {', '.join(found['not_evaluated'])}"
                        if found["not_evaluated"]
                        else ""
                    )
                    + "."
                )
        lines.append("")
    if "warm_latency" in results:
        lines += [
            f"Warm latency per route ({results['warm_latency'][0]['requests']} in-process requests each; budget p50 ≤ 1.5x) "
            "and the AWS calls each request makes (counted through botocore's event hooks):",
            "",
            "| route | p50 ms | p99 ms | baseline p50 ms | ratio | AWS calls | baseline's calls |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in results["warm_latency"]:
            calls = _calls(r["aws_calls"])
            theirs = r.get("baseline_aws_calls")
            same = "same" if theirs == r["aws_calls"] else (_calls(theirs) if theirs is not None else "-")
            lines.append(
                f"| `{r['route']}` | {r['p50_ms']} | {r['p99_ms']} | {r['baseline_p50_ms'] or '-'} | {r['ratio_p50'] or '-'} | {calls} | {same} |"
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
    if "plans" in results:
        lines += _plans(results["plans"], results.get("reruns", []))
    if "workspace" in results:
        lines += _workspace(results["workspace"], results.get("reruns", []))
    if "datasets" in results:
        lines += _datasets(results["datasets"], results.get("reruns", []))
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


def _plans(plans: dict[str, Any], reruns: list[dict[str, Any]]) -> list[str]:
    """The plans section (bench/plans.py): quota check, cached vs uncached reads, noisy neighbour."""
    q, n = plans["quota_check"], plans["noisy_neighbour"]
    when = next((r["generated_at"] for r in reruns if "plans" in r["sections"]), None)
    load = plans.get("load_average")
    calls = ", ".join(f"{k.split(':')[1]} x {v}" for k, v in q["request_calls_added"].items())
    lines = [
        "Plans: the request limiter, cached reads and a noisy neighbour (`bench/plans.py`"
        + (f", run {when}" if when else "")
        + (f"; load average {load[0]} → {load[1]} on the machine meanwhile" if load else "")
        + f"). Quota check, {q['requests']} requests of a tenant under its rate, interleaved: the "
        f"limiter's `admit` as the middleware calls it, its one UpdateItem in bare boto3 (the emulator's round "
        f"trip: admit's own code costs {q['limiter_over_bare_p50_ms']} ms more at p50), and the same warm "
        "`GET /me` with and without the limiter. "
        f"Budget: ≤ {q['budget_ms']} ms at p50 and at p99, {q['budget_calls']} DynamoDB call per request.",
        "",
        "| quota check | p50 ms | p99 ms | within |",
        "|---|---|---|---|",
        f"| limiter `admit` (the added work) | {q['limiter_p50_ms']} | {q['limiter_p99_ms']} "
        f"| {_verdict(q['p50_ok'])} / {_verdict(q['p99_ok'])} |",
        f"| bare boto3: the same UpdateItem | {q['bare_update_p50_ms']} | {q['bare_update_p99_ms']} | |",
        f"| `GET /me` with the limiter | {q['request_p50_ms']} | {q['request_p99_ms']} | |",
        f"| `GET /me` without | {q['request_without_limiter_p50_ms']} | {q['request_without_limiter_p99_ms']} | |",
        f"| difference | {q['added_p50_ms']} | {q['added_p99_ms']} | |",
        "",
        f"DynamoDB calls per request: {q['dynamodb_calls_per_request']} (a request through the limiter "
        f"makes {calls or 'nothing'} more than without it): {_verdict(q['calls_ok'])}.",
        "",
        "| read | cached p50 ms | calls | uncached p50 ms | calls | uncached / cached |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("config_read", "tenant config"), ("secret_read", "tenant secret")):
        r = plans.get(name)
        if r:
            lines.append(
                f"| {label}: {r['cached']} vs {r['uncached']} | {r['cached_p50_ms']} "
                f"| {_calls(r['cached_calls'])} | {r['uncached_p50_ms']} | {_calls(r['uncached_calls'])} "
                f"| {r['uncached_over_cached_p50']}x |"
            )
    lines += [
        "",
        f"Noisy neighbour: {n['noisy_threads']} threads in a process of their own send a tenant's requests back "
        f"to back for {n['seconds']} s, over its rate of {n['noisy_rate_limit']}/s (burst {n['noisy_burst']}): "
        f"{n['noisy_offered_per_s']} requests/s offered, {n['noisy_admitted_per_s']}/s admitted, "
        f"{n['noisy_refused_per_s']}/s refused with 429. Another tenant's `GET /me`, one after another "
        f"({n['other_requests'][0]} and {n['other_requests'][1]} requests, {n['other_failed']} refused): "
        f"p50 {n['other_p50_ms'][0]} ms without the hammering, {n['other_p50_ms'][1]} ms with it "
        f"(x{n['other_ratio_p50']}; budget ≤ {n['budget']}x: {_verdict(n['within_budget'])}). Both tenants' "
        "requests meet in the one AWS-compatible server and on this machine's two cores, which a deployed "
        "tenant never shares with another; the figure bounds the effect from above.",
        "",
    ]
    return lines


def _workspace(section: dict[str, Any], reruns: list[dict[str, Any]]) -> list[str]:
    """The workspace section (bench/workspace.py): one dashboard read as 0, 10 and 100 shares and groups."""
    when = next((r["generated_at"] for r in reruns if "workspace" in r["sections"]), None)
    load = section.get("load_average")
    lines = [
        "Workspace: `GET /dashboards/{dashboardId}` by a member who is not the dashboard's owner, with 0, 10 "
        "and 100 shares and groups (`bench/workspace.py`"
        + (f", run {when}" if when else "")
        + (f"; load average {load[0]} → {load[1]} on the machine meanwhile" if load else "")
        + f"): {section['groups_in_tenant']} groups in one tenant, the caller in min(N, 98) of them, N shares "
        "on the dashboard (to the caller's groups and to other users) beside the caller's own; "
        f"{section['requests']} in-process requests per level, interleaved. Budget: p50 at 100 ≤ "
        f"{section['budget']}x p50 at 0, and the same AWS calls: x{section['ratio_p50']} "
        f"({_verdict(section['p50_ok'])}), calls {'the same' if section['same_calls'] else 'differ'} "
        f"({_verdict(section['same_calls'])}). Where a growth comes from: the function's own CPU per request "
        f"(x{section['ratio_cpu_p50']}) and the resolution's two calls in bare boto3 against the emulator, "
        f"measured beside it (x{section['ratio_bare_resolution_p50']}).",
        "",
        "| shares and groups | caller's groups | group shares | user shares | myPermission | p50 ms | p95 ms "
        "| own CPU p50 ms | bare resolution p50 ms | route minus bare ms | AWS calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['shares_and_groups']} | {r['groups_of_caller']} | {r['group_shares']} | {r['user_shares']} "
        f"| {r['my_permission']} | {r['p50_ms']} | {r['p95_ms']} | {r['cpu_p50_ms']} "
        f"| {r['bare_resolution_p50_ms']} | {r['over_bare_p50_ms']} | {_calls(r['aws_calls'])} |"
        for r in section["levels"]
    ]
    lines.append("")
    return lines


def _datasets(section: dict[str, Any], reruns: list[dict[str, Any]]) -> list[str]:
    """The datasets section (bench/datasets.py): import, preview, card execution, engine cold starts."""
    when = next((r["generated_at"] for r in reruns if "datasets" in r["sections"]), None)
    load = section.get("load_average")
    imp, preview, card, cold = section["import"], section["preview"], section["card"], section["cold_start"]
    isolation = section["engine_isolation"]
    lines = [
        f"Datasets: a generated CSV of {imp['rows']} rows x {imp['columns']} columns (int64, float64, bool, "
        f"date, datetime and string columns, ~2% empty fields; {imp['csv_bytes'] / 1e6:.1f} MB) imported, previewed "
        "and aggregated by a card, in-process through the functions' handlers on the AWS-compatible server "
        "(`bench/datasets.py`"
        + (f", run {when}" if when else "")
        + (f"; load average {load[0]} → {load[1]} on the machine meanwhile" if load else "")
        + ").",
        "",
        f"Import (median of {imp['runs']}): the `dataset_import` handler on the upload's `Object Created` "
        "event (download as the tenant, strict parse, every value typed, Parquet, upload, the item READY), "
        "and beside it the conversion alone on the local file. Parquet (Snappy) is "
        f"{imp['parquet_bytes'] / 1e6:.1f} MB, {imp['parquet_over_csv']}x the CSV; every column typed as "
        f"generated: {_verdict(imp['types_as_generated'])}.",
        "",
        "| import | seconds | rows/s | MB/s of CSV |",
        "|---|---|---|---|",
        f"| `dataset_import` handler (S3 and DynamoDB on the emulator) | {imp['import_s']} | {imp['rows_per_s']} "
        f"| {imp['mb_per_s']} |",
        f"| conversion alone (DuckDB, local file) | {imp['convert_s']} | {imp['convert_rows_per_s']} "
        f"| {imp['convert_mb_per_s']} |",
        "",
        f"`GET /datasets/{{datasetId}}/preview` ({preview['requests']} warm requests, {preview['rows_answered']} rows "
        f"answered): p50 {preview['p50_ms']} ms, p95 {preview['p95_ms']} ms. "
        f"`POST /cards/{{cardId}}/execute` for a card that sums a float column by a string column over the "
        f"{imp['rows']} rows (two used columns), through the analytics API with the card executor's logic "
        "in-process (the code in its sandboxed child process, as deployed); per round, interleaved, one uncached "
        "execution in fresh function instances (handlers loaded anew, empty /tmp row cache, no spare child, "
        f"the tenant's credentials not cached; the interpreter's imports are the cold starts below), then "
        "uncached warm (`useCache: false`) and cached executions in turn. Budget: cached p50 ≤ "
        f"{card['budget']}x uncached warm p50: x{card['cached_over_warm_p50']} ({_verdict(card['within_budget'])}).",
        "",
        "| card execution | executions | p50 ms | p95 ms | the executor's own p50 ms |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {label} | {card[kind]['executions']} | {card[kind]['p50_ms']} | {card[kind]['p95_ms']} "
        f"| {card[kind]['executor_p50_ms']} |"
        for kind, label in (
            ("uncached_cold", "uncached, cold instance"),
            ("uncached_warm", "uncached, warm"),
            ("cached", "cached (the stored result's time)"),
        )
    ]
    lines += [
        "",
        f"Cold start of the import and card executor functions ({cold['environment']}; median of "
        f"{cold['functions'][0]['runs']} runs by `bench/cold.py`): `import duckdb` alone takes "
        f"{cold['import_duckdb_ms']} ms; the engine layer is {cold['engine_layer_mb']} MB unzipped"
        + ("" if cold["engine_layer_built"] else " (the venv's duckdb: no engine layer was built)")
        + ".",
        "",
        "| function | layers | import ms | first event | first event ms | total ms | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['function']} | {r['layers']} | {r['init_ms']} | {r['first_event']} | {r['first_event_ms']} "
        f"| {r['total_ms']} | {r['failed_first_events']} |"
        for r in cold["functions"]
    ]
    with_layer = [r["function"] for r in isolation["functions"] if r["engine_layer"]]
    loading = [r["function"] for r in isolation["functions"] if r["engine_layer"] and r["imports_duckdb"]]
    lines += [
        "",
        "Engine isolation (budgeted): each function's handler imported in a fresh interpreter with the engine "
        f"layer on its path; of the {len(isolation['functions']) - len(with_layer)} functions without that layer, "
        f"importing duckdb: {', '.join(isolation['importing_without_layer']) or 'none'} "
        f"({_verdict(isolation['within_budget'])}). With the layer ({', '.join(with_layer)}), duckdb is loaded "
        f"at the handler's import by: {', '.join(loading) or 'none'}.",
        "",
    ]
    return lines


def _calls(calls: dict[str, int]) -> str:
    return ", ".join(f"{k.split(':')[1]} x {v}" for k, v in calls.items()) or "none"


def _verdict(within: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[within]


def _function_before(row: dict[str, Any]) -> str:
    """The function, and the function whose before it is budgeted against when that is another one
    (a function added since the before: bench/import_weight.py's STAND_INS)."""
    stand_in = row.get("before_function")
    if stand_in in (None, row["function"]):
        return str(row["function"])
    return f"{row['function']} (new; before: {stand_in}'s)"


def _ms(us: int | None) -> str:
    return "-" if us is None else f"{us / 1000:.1f}"


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
