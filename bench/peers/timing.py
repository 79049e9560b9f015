"""Timing shared by the PyTorch peers: the median of repeated runs after one warm-up."""
import time


def median_seconds(fn, min_samples=5, min_seconds=1.0):
    """Median wall time of fn(): at least `min_samples` runs and `min_seconds` in all, at most 50 runs."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < min_samples or (time.perf_counter() - start < min_seconds and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]
