"""The benchmark's printed report (and goals) from a run's summary."""

OTP_PATHS = ("VerifyOTPCode", "SendOTPCode", "VerifyResponse")
GOALS = {
    "otp_ratio": 0.4,
    "ratio": 0.5,
    "p99_ms": 25.0,
    "rss_mb": 100.0,
    "first_answer_s": 2.0,
    "slow_p99_ms": 100.0,
}


def report(summary: dict) -> str:
    lines = []
    config = summary["config"]
    lines.append(
        f"gspws benchmark: {config['db']}, {config['tokens']:,} tokens, {config['workers']} "
        f"worker(s), {config['connections']} connections, {config['duration']} s per run, "
        f"load by {summary['loadgen']}, {summary['cpus']} CPU(s) shared by the load generator "
        f"and the servers; gspws {summary['gspws_commit'] or '(commit unknown)'}"
    )
    lines.append(
        f"CPU busy before the run (other processes): "
        f"{summary['background_busy_pct']:.0f}%; 'cpu ms/req' counts the server's "
        "processes only (not wrk, not PostgreSQL); 'cpu busy' is the whole machine; "
        "'rest' is the share of the machine used by neither the server nor the load "
        "generator (PostgreSQL, other processes)"
    )
    env = summary["server_env"]
    lines.append(
        f"seeding: {summary['seed_seconds']:.1f} s; GSPWS_LOCKOUT_THRESHOLD="
        f"{env['GSPWS_LOCKOUT_THRESHOLD']} so the failure path measures verification, not "
        f"lockout; rate limits {env['GSPWS_RATE_LIMIT_SERVICE']} per service, "
        f"{env['GSPWS_RATE_LIMIT_ACCOUNT']} per account "
        "(checked on every call, never reached)"
    )
    if config.get("server_env"):
        lines.append("gspws environment overrides: " + " ".join(config["server_env"]))
    lines.append(
        "floor and gspws answer with the same bytes: "
        + ("yes" if summary.get("same_response_bytes") else "NO")
    )
    by = {(m["target"], m["path"]): m for m in summary["results"]}
    titles = {
        "success": "success path (distinct valid codes, one use each; expected Code 0)",
        "failure": "failure path (wrong code 000000; expected Code 9999)",
        "VerifyOTPCode": "MobileOTP.asmx VerifyOTPCode (seeded codes, one use each; expected "
        "Code 0; ratio to the floor's success path)",
        "SendOTPCode": "MobileOTP.asmx SendOTPCode (one per account, into the outbox; "
        "expected Code 0; ratio to the floor's success path)",
        "VerifyResponse": "OTP.asmx VerifyResponse (OCRA-1:HOTP-SHA1-6:QN08, one seeded "
        "challenge per token, each answered once; expected Code 0; ratio to the floor's "
        "success path)",
    }
    for path in titles:
        if ("gspws", path) not in by:
            continue
        floor_path = "success" if path in OTP_PATHS else path
        lines.append("")
        lines.append(titles[path])
        lines.append(
            f"  {'target':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
            f"{'cpu ms/req':>12}{'cpu busy':>10}{'rest':>6}{'requests':>10}"
            f"{'seconds':>9}"
        )
        for target in ("floor", "gspws"):
            m = by.get((target, path if target == "gspws" else floor_path))
            if not m:
                continue
            cpu = f"{m['cpu_ms_per_request']:.2f}" if m["cpu_ms_per_request"] else "-"
            lines.append(
                f"  {target:<12}{m['rps']:>10,.0f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
                f"{m['errors']:>8}{cpu:>12}{m['machine_busy_pct']:>9.0f}%"
                f"{m['rest_pct']:>5.0f}%"
                f"{m['requests']:>10,}{m['duration']:>9.1f}"
            )
        if ("floor", floor_path) in by and by[("floor", floor_path)]["rps"]:
            ratio = by[("gspws", path)]["rps"] / by[("floor", floor_path)]["rps"]
            lines.append(f"  gspws/floor {ratio:>10.2f}")
        g = by.get(("gspws", path))
        if g:
            answers = ", ".join(f"{code}: {n:,}" for code, n in sorted(g["answers"].items()))
            lines.append(f"  gspws answers (audit_events): {answers or '-'}")
            if g["note"]:
                lines.append(f"  note: {g['note']}")
    slow = summary.get("slow_clients")
    if slow:
        lines.append("")
        lines.append(
            f"slow clients on gspws: {slow['tricklers']} connections trickling a request "
            f"one byte a second (reopened when cut: {slow['cuts']} cuts) while one client "
            f"calls VerifyTOTPCode (wrong code, expected 9999) every 20 ms for "
            f"{slow['seconds']:.0f} s: {slow['calls']} calls, {slow['lost']} lost, "
            f"p50 {slow['p50_ms']:.1f} ms, p99 {slow['p99_ms']:.1f} ms, "
            f"max {slow['max_ms']:.1f} ms"
        )
    lines.append("")
    for name in ("gspws", "floor"):
        rss = ", ".join(f"{r:.1f}" for r in summary["rss_mb_per_worker"][name] if r is not None)
        lines.append(
            f"{name}: first answer {summary['first_answer_s'][name]:.2f} s after spawn; "
            f"RSS per worker after the load: {rss} MB (master "
            f"{summary['rss_mb_master'][name]:.1f} MB)"
        )
    success_g, success_f = by.get(("gspws", "success")), by.get(("floor", "success"))
    lines.append("")
    lines.append("goals (for 2 workers, 16 connections, SQLite; reported, not asserted):")
    if success_g and success_f and success_f["rps"]:
        ratio = success_g["rps"] / success_f["rps"]
        lines.append(
            _goal(
                f"success req/s >= {GOALS['ratio']} x floor",
                f"{ratio:.2f} x",
                ratio >= GOALS["ratio"],
            )
        )
    for path in OTP_PATHS:
        otp = by.get(("gspws", path))
        if otp and success_f and success_f["rps"]:
            ratio = otp["rps"] / success_f["rps"]
            lines.append(
                _goal(
                    f"{path} req/s >= {GOALS['otp_ratio']} x floor",
                    f"{ratio:.2f} x",
                    ratio >= GOALS["otp_ratio"],
                )
            )
    if success_g:
        lines.append(
            _goal(
                f"success p99 <= {GOALS['p99_ms']:.0f} ms",
                f"{success_g['p99_ms']:.1f} ms",
                success_g["p99_ms"] <= GOALS["p99_ms"],
            )
        )
    rss = [r for r in summary["rss_mb_per_worker"]["gspws"] if r is not None]
    if rss:
        lines.append(
            _goal(
                f"RSS per worker <= {GOALS['rss_mb']:.0f} MB",
                f"{max(rss):.1f} MB",
                max(rss) <= GOALS["rss_mb"],
            )
        )
    first = summary["first_answer_s"]["gspws"]
    lines.append(
        _goal(
            f"first answer <= {GOALS['first_answer_s']:.0f} s",
            f"{first:.2f} s",
            first <= GOALS["first_answer_s"],
        )
    )
    slow = summary.get("slow_clients")
    if slow:
        lines.append(
            _goal(
                f"with {slow['tricklers']} trickling connections, p99 <= "
                f"{GOALS['slow_p99_ms']:.0f} ms and no call lost",
                f"{slow['p99_ms']:.1f} ms, {slow['lost']} lost",
                slow["p99_ms"] <= GOALS["slow_p99_ms"] and not slow["lost"],
            )
        )
    lines.append(
        "  PostgreSQL >= 0.8 x SQLite and 1,000,000 vs 1,000 tokens within 10 %: compare "
        "the success req/s of two runs (--db, --tokens; --json)"
    )
    kind = "wall clock, waiting included" if summary["config"].get("profile_idle") else "on CPU"
    if summary.get("profile"):
        lines += _profile_lines(summary["profile"], kind, "the success run")
    for operation, profile in (summary.get("otp_profiles") or {}).items():
        lines += _profile_lines(profile, kind, f"MobileOTP.asmx {operation}")
    return "\n".join(lines)


def _profile_lines(p: dict, kind: str, run: str) -> list[str]:
    lines = [
        "",
        f"py-spy ({kind}), gspws workers' main threads during {run} "
        f"({p['samples']:,} samples at 100 Hz; % of samples):",
    ]
    for part in ("packages", "self", "inclusive", "other_threads"):
        lines.append(f"  top {part}:")
        for frame, share in p[part]:
            lines.append(f"    {share:5.1f}%  {frame}")
    return lines


def _goal(what: str, value: str, met: bool) -> str:
    return f"  [{'met' if met else 'MISSED'}] {what}: {value}"


def shapes_report(summaries: list[dict]) -> str:
    """One line per load shape, then PostgreSQL against SQLite where both ran the same shape."""
    lines = [
        "",
        "load shapes (gspws; floor req/s in brackets; cpu ms per call)",
        f"  {'database':<11}{'workers':>8}{'conns':>6}{'success req/s':>22}{'p99':>7}"
        f"{'cpu':>6}{'failure req/s':>22}{'p99':>7}{'cpu':>6}",
    ]
    rates: dict[tuple[str, int, int], dict[str, float]] = {}
    for summary in summaries:
        config = summary["config"]
        by = {(m["target"], m["path"]): m for m in summary["results"]}
        shape = (config["db"], config["workers"], config["connections"])
        cells = []
        for path in ("success", "failure"):
            g, f = by[("gspws", path)], by[("floor", path)]
            rates.setdefault(shape, {})[path] = g["rps"]
            cells.append(
                f"{g['rps']:>11,.0f} ({f['rps']:>7,.0f}){g['p99_ms']:>7.1f}"
                f"{g['cpu_ms_per_request'] or 0:>6.2f}"
            )
        lines.append(f"  {shape[0]:<11}{shape[1]:>8}{shape[2]:>6}" + "".join(cells))
    for (db, workers, connections), paths in rates.items():
        sqlite = rates.get(("sqlite", workers, connections))
        if db == "postgresql" and sqlite:
            lines.append(
                f"  PostgreSQL / SQLite, {workers} workers, {connections} connections: "
                + ", ".join(
                    f"{path} {paths[path] / sqlite[path]:.2f}" for path in ("success", "failure")
                )
                + " (goal 0.8)"
            )
    return "\n".join(lines)
