"""The report's sections on faults under load (part 4: the short faults,
the failover and the switchover back) and on the failover drill with
synchronous replication's cost (part 5)."""
from .report_tables import table, verdict


def faults_section(faults):
    rows = [[name, v["requests"], v["failed_reads"], v["writes"], v["read_only_503_with_message"], v["failed_writes"]]
            for name, v in faults["phases"].items()]
    ack = faults["acknowledged_comments"]
    out = ["## 4. Faults under load\n",
           f"{faults['readers']} readers and {faults['writers']} writers throughout; each short fault lasts "
           f"{faults['phase_seconds']} s; then the leader's host is lost (failover), the lost member started "
           "again (rejoin), and the lead handed back to the first member (planned switchover).\n",
           table(["phase", "requests", "failed reads", "comment POSTs by status", "503 read-only", "failed writes"], rows),
           "\n" + table(["recovery", "seconds"], list(faults["recovery"].items())),
           f"\nAcknowledged comments missing afterwards: **{ack['missing']}** of {ack['acknowledged']}. "
           f"Read-your-writes violations **{faults['read_your_writes_violations']}**, monotonic-read violations "
           f"**{faults['monotonic_read_violations']}** over the whole part (replicas not delayed in this part).\n"]
    if faults.get("failover", {}).get("targets"):
        out.append(failover_under_load(faults["failover"], faults.get("switchover", {})))
    if faults["consistency_examples"]:
        out.append("\nViolations seen (each with the write's response setting the pin, `write_pin_change`):\n\n```\n"
                   + "\n".join(map(str, faults["consistency_examples"])) + "\n```\n")
    return "\n".join(out)


def clock_jump_note(found):
    """Said when the wall clock jumped during the failover (bench/faults.py clock_jump)."""
    jump = found.get("clock_jump_s") or 0
    return f" (the wall clock ran {jump} s ahead of the monotonic one meanwhile: the machine was paused)" if jump >= 1 else ""


def failover_under_load(found, switchover):
    writes, targets = found["writes"], found["targets"]
    rows = [["reads failed (failover to rejoined)", "0", targets["failed_reads"]["value"], verdict(targets["failed_reads"])],
            ["comment POSTs refused (503 read-only) during the gap", "503 with the notice",
             f"{writes['refused']} ({writes['refused_without_read_only_notice']} without the notice), "
             f"from {writes['first_refused_after_s']} s to {writes['last_refused_after_s']} s after the loss", ""],
            ["comments acknowledged (303) again, after the loss", f"≤ {targets['writes_back_s']['target']:.0f} s",
             f"{targets['writes_back_s']['value']} s{clock_jump_note(found)}", verdict(targets["writes_back_s"])],
            ["a member took writes (the drill's probe, under load)", "", f"{found['drill_seconds_to_new_leader']} s", ""],
            ["the lost member streams from the new primary, after its start", f"≤ {targets['rejoin_s']['target']:.0f} s",
             f"{targets['rejoin_s']['value']} s", verdict(targets["rejoin_s"])],
            ["read-your-writes + monotonic violations across it", "0",
             f"{found['read_your_writes_violations']} + {found['monotonic_read_violations']}",
             verdict(targets["consistency_violations"])]]
    if switchover:
        ok = switchover["failed_writes"] == 0 and switchover["failed_reads"] == 0
        rows.append(["planned switchover back: failed reads, failed writes, 503s", "0, 0, a few",
                     f"{switchover['failed_reads']}, {switchover['failed_writes']}, "
                     f"{switchover['read_only_503_with_message']} (took {found.get('switchover_s')} s); "
                     f"violations {switchover['violations']}", "met" if ok and not switchover["violations"] else "**missed**"])
    return (f"\nFailover under load (issue 18): `{found['lost']}` lost, `{found['new_leader']}` promoted.\n\n"
            + table(["figure", "target", "measured", ""], rows))


def failover_section(found):
    out = ["## 5. Failover drill and synchronous replication's cost\n"]
    if found["trials"]:
        rows = [[n + 1, t["lost"], t["new_leader"], t["failover_s"], t["rejoin_s"]]
                for n, t in enumerate(found["trials"])]
        f, r = found["failover_s"], found["rejoin_s"]
        out += ["The drill alone, no load (`bench/failover.py`): the leader's agent and PostgreSQL SIGKILLed, "
                "seconds until another member commits a row with no synchronous-replication warning; then the "
                "lost member started, seconds until it streams from the new leader.\n",
                table(["trial", "lost", "promoted", "failover s", "rejoin s"], rows),
                f"\nFailover min / median / max: **{f['min']} / {f['median']} / {f['max']} s**; rejoin "
                f"{r['min']} / {r['median']} / {r['max']} s; the switchover back took {found['switch_back_s']} s.\n"]
    else:
        out.append("No drill trial in this run (the quick run leaves the drill alone to the full run; the "
                   "fault part's failover, above, measured it under load).\n")
    sync = found.get("sync_commit")
    if sync:
        rows = [[mode, sync["settings"][mode], f"{sync[mode]['acknowledged']} / {sync[mode]['posts']}",
                 sync[mode]["p50_ms"], sync[mode]["p99_ms"], sync[mode]["mean_ms"]] for mode in ("on", "local")]
        out.append(f"\nA comment POST, request sent to 303 received, {sync['rounds']} interleaved rounds of "
                   f"{sync['posts_per_round']} POSTs per mode on two servers side by side (bench/sync_cost.py); "
                   f"synchronous standby: `{sync['settings']['synchronous_standby_names']}`.\n\n"
                   + table(["server", "synchronous_commit", "acknowledged / POSTs", "p50 ms", "p99 ms", "mean ms"], rows)
                   + f"\nSynchronous replication costs a comment POST **{sync['p50_on_minus_local_ms']} ms at p50 and "
                     f"{sync['p99_on_minus_local_ms']} ms at p99**.\n")
    return "\n".join(out)
