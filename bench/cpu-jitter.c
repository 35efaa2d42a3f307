/*
 * npm run bench:jitter — how often this machine stops a thread that wants to run.
 *
 * Works like a Redis serving back-to-back scripts: spins in bursts of BURST ms (default 3, about
 * a purge script), sleeping 1 ms between them, for SECONDS (default 60). A burst is pure clock
 * reads, so any burst over its length is time the thread did not run: preempted by another
 * process, interrupted, or its virtual CPU descheduled by the host. Run it under `chrt --fifo 10`
 * to leave only what no process of this machine can cause. bench:slowlog's outliers are judged
 * against this floor (README, Reliability, "Bounded work").
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 60;
  double burst = argc > 2 ? atof(argv[2]) : 3;
  double start = now_ms(), longest = 0, longest_gap = 0;
  long bursts = 0, over_10 = 0;
  while (now_ms() - start < seconds * 1e3) {
    double began = now_ms(), last = began;
    for (;;) {
      double t = now_ms();
      if (t - last > longest_gap) longest_gap = t - last;
      last = t;
      if (t - began >= burst) break;
    }
    double took = last - began;
    bursts++;
    if (took > 10) over_10++;
    if (took > longest) longest = took;
    usleep(1000);
  }
  printf("%ld bursts of %.1f ms in %.0f s: %ld took over 10 ms, longest %.2f ms (longest stop %.2f ms)\n",
         bursts, burst, seconds, over_10, longest, longest_gap);
  return 0;
}
