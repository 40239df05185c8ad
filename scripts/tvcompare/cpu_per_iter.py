#!/usr/bin/python3
"""CPU seconds per training iteration from a sample_cpu.sh trace.

    cpu_per_iter.py CPU_TXT T0 T1 ITERS

T0 and T1 are Unix times of two training log lines ITERS iterations apart
(detflow's train.log has them; for train_torchvision.py, timestamp its log
lines as they appear). The process's CPU time (user + system, all threads)
is interpolated linearly between the 5-second samples around T0 and T1. On a
shared machine this is steadier than wall time per iteration, which depends
on how many other jobs run.
"""
import sys


def ticks_at(samples, t):
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if t0 <= t <= t1:
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0)
    sys.exit(f"time {t} outside the samples {samples[0][0]}..{samples[-1][0]}")


def main():
    path, t0, t1, iters = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    hz, samples = 100, []
    for line in open(path):
        if line.startswith("# clk_tck"):
            hz = int(line.split()[2])
        elif line.strip():
            f = line.split()
            samples.append((float(f[0]), int(f[1])))
    cpu = (ticks_at(samples, t1) - ticks_at(samples, t0)) / hz
    print(f"cpu_s {cpu:.1f} wall_s {t1 - t0:.1f} iters {iters} "
          f"cpu_s_per_iter {cpu / iters:.3f} wall_s_per_iter {(t1 - t0) / iters:.3f} "
          f"cores_used {cpu / (t1 - t0):.2f}")


if __name__ == "__main__":
    main()
