#!/usr/bin/env python3
"""A board server that dies (or stalls) under a 2-rank kelvin-mpi job ends the job cleanly.

Starts two kelvind (one emulated board each), runs `mpiexec -n 2 kelvin-mpi <job>` with rank r
on kelvind r, then kills (SIGKILL) or stops (SIGSTOP) rank 1's kelvind mid-job. Checks that the
job ends within its deadline (plus the agreement grace, runtime/collective.hpp), exits 1, and that
EVERY rank prints an error naming rank 1 and its board's address.

Run by ctest (tests/mpi/CMakeLists.txt):
  kelvind_failure_test.py KELVIND KELVIN_MPI MPIEXEC JOB [JOB ARGS...]
"""

import os
import re
import signal
import subprocess
import sys
import time

AGREEMENT_GRACE_S = 2.0  # kAgreementGrace in runtime/collective.hpp
SLACK_S = 5.0            # process start-up and MPI teardown on a loaded 2-core machine


def start_kelvind(kelvind, seed):
    proc = subprocess.Popen(
        [kelvind, "--listen", "tcp:127.0.0.1:0", "--device", f"sim:resonator?cells=8&seed={seed}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    match = re.match(r"listening (tcp:\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"kelvind did not start: {line!r}")
    return proc, match.group(1)


def run_case(kelvind, kelvin_mpi, mpiexec, job, how):
    deadline_s = 20.0 if how == "kill" else 4.0
    servers = [start_kelvind(kelvind, seed) for seed in (1, 2)]
    uris = ",".join(uri for _, uri in servers)
    victim, victim_uri = servers[1]
    cmd = [mpiexec, "-n", "2", kelvin_mpi, *job, "--uris", uris, "--timeout-s", str(deadline_s)]
    start = time.monotonic()
    mpi = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures = []
    try:
        time.sleep(1.5)
        if mpi.poll() is not None:
            failures.append(f"{how}: the job ended before the server was {how}ed: "
                            f"{mpi.stderr.read()}")
            return failures
        victim.send_signal(signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        limit = deadline_s + AGREEMENT_GRACE_S + SLACK_S
        try:
            _, err = mpi.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            mpi.kill()
            _, err = mpi.communicate()
            failures.append(f"{how}: the job did not end within {limit} s: {err}")
            return failures
        elapsed = time.monotonic() - start
        print(f"{how}: exit {mpi.returncode} after {elapsed:.1f} s (deadline {deadline_s} s)")
        print(err)
        if mpi.returncode != 1:
            failures.append(f"{how}: exit code {mpi.returncode}, expected 1")
        for rank in (0, 1):
            lines = [l for l in err.splitlines() if l.startswith(f"kelvin-mpi: rank {rank}: error:")]
            named = [l for l in lines if "rank 1 of 2 (board " + victim_uri in l]
            if not named:
                failures.append(f"{how}: rank {rank} printed no error naming rank 1 and "
                                f"{victim_uri}: {lines}")
        if "MPI_ABORT" in err or "MPI_Abort" in err:
            failures.append(f"{how}: the ranks did not agree (the job was aborted)")
    finally:
        for proc, _ in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait()
    return failures


def main():
    kelvind, kelvin_mpi, mpiexec, *job = sys.argv[1:]
    failures = []
    for how in ("kill", "stop"):
        failures += run_case(kelvind, kelvin_mpi, mpiexec, job, how)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
