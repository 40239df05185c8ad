#!/bin/bash
# Used by scripts/tvcompare to measure CPU time of a training run on a shared machine.
# sample_cpu.sh PID OUT: every 5 s, append "unix_time cpu_ticks(utime+stime) rss_kb" of PID.
pid=$1; out=$2; hz=$(getconf CLK_TCK)
echo "# clk_tck $hz" > "$out"
while [ -e /proc/$pid/stat ]; do
  read -r -a f < /proc/$pid/stat
  rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  echo "$(date +%s.%N) $(( ${f[13]} + ${f[14]} )) $rss" >> "$out"
  sleep 5
done
