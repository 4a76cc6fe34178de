#!/usr/bin/env python3
"""Reads a ThreadSanitizer log and fails (exit 1) if a race is reported at parsci's own
code: an access whose innermost frame (#0, past TSan's interceptors) is in parsci_comm.
std is not instrumented here (no rust-src for -Zbuild-std), so a race whose accesses
both sit in std or libtest (a contended Mutex, an Arc's last drop, the test harness) is
TSan not seeing std's synchronisation: those are listed, not failed on (.ci/tsan.supp
silences the ones already triaged)."""
import re
import sys

INTERCEPTORS = ("__tsan_", " free ", " malloc ", " realloc ", " memcpy ", " memmove ", " memset ")

text = open(sys.argv[1], errors="replace").read()
blocks = text.split("WARNING: ThreadSanitizer")[1:]
ours, theirs = [], []
for b in blocks:
    block = b.split("SUMMARY: ThreadSanitizer")[0]
    frames = []
    # The first frame of each access that is not an interceptor.
    for stack in re.split(r"\n  (?:Read|Write|Atomic|Previous)", block)[1:]:
        for line in stack.splitlines():
            m = re.match(r"\s+#\d+ (.*)", line)
            if m and not any(i in " " + m.group(1) + " " for i in INTERCEPTORS):
                frames.append(m.group(1)[:160])
                break
    (ours if any("parsci_comm" in f for f in frames) else theirs).append(frames)
for f in theirs:
    print("tsan: in std/libtest only (uninstrumented std), not failed on:", f)
for f in ours:
    print("tsan: RACE AT PARSCI CODE:", f)
print(f"tsan: {len(ours)} report(s) at parsci code, {len(theirs)} in std/libtest only")
sys.exit(1 if ours else 0)
