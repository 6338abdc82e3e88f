"""Run a command and measure its own peak RSS.

wait4's ru_maxrss is not it: Linux carries the forking process's high-water mark across exec, so a
child started by a Python process that has grown (boto3 after 100,000 uploads) reports the parent's
size. VmHWM in /proc/PID/status is the high-water mark of the command's own address space; it only
rises, so the last reading before the process exits is its peak.
"""
import os
import subprocess
import time


def high_water_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None  # gone, or a zombie whose memory is already released


def run(command, env, output):
    """(exit status, seconds, peak RSS in MB) of `command`, its output written to `output`."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    peak_kb = 0
    # waitid with WNOWAIT leaves the child unreaped, so /proc/PID stays its own until wait4 below.
    while os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        peak_kb = max(peak_kb, high_water_kb(process.pid) or 0)
        time.sleep(0.02)
    _, status, _ = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return status, time.perf_counter() - start, peak_kb / 1024
