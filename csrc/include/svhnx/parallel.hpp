// A parallel loop over contiguous chunks, without a thread pool (no Python in here).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace svhnx {

// ---------------------------------------------------------------------------------------
// Parallel loop
// ---------------------------------------------------------------------------------------

// Number of threads to use: `requested` if positive, else every hardware thread; never
// more than there are work items.
inline int resolve_threads(int requested, int64_t items) {
  if (requested < 0) throw std::invalid_argument(  // ValueError in Python
        "threads: expected None, 0 or a positive count, got " + std::to_string(requested));
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, items)));
}

// Call fn(begin, end) on `threads` contiguous chunks of [0, n). Call it with the GIL
// released; fn must not touch Python objects. The first exception thrown is rethrown.
// When the system cannot start another thread (std::system_error: out of threads or of
// address space), the calling thread runs the chunks left itself: fewer threads, the same
// chunks and so the same result, never std::terminate.
template <class Fn>
void parallel_for(int64_t n, int threads, Fn&& fn) {
  if (n <= 0) return;
  if (threads <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  const int64_t chunk = (n + threads - 1) / threads;
  auto run = [&](int t) {
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) return;
    try {
      fn(begin, end);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  workers.reserve(threads - 1);
  int started = 1;
  for (; started < threads; ++started) {
    try {
      workers.emplace_back(run, started);
    } catch (const std::system_error&) {
      break;
    }
  }
  for (int t = started; t < threads; ++t) run(t);
  run(0);
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace svhnx
