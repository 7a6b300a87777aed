// Shared helpers of the native data path: argument checks, a counter-based RNG and a
// thread pool-free parallel loop. Every op validates its inputs with these before it
// releases the GIL, so bad input raises TypeError/ValueError instead of crashing.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

namespace svhnx {

namespace py = pybind11;

// ---------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------

// Raise TypeError unless `a` has dtype T.
template <class T>
void require_dtype(const py::array& a, const char* name) {
  if (!py::isinstance<py::array_t<T>>(a)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         std::string(py::str(py::dtype::of<T>())) + ", got " +
                         std::string(py::str(a.dtype())));
  }
}

// Raise ValueError unless `a` is C-contiguous.
inline void require_contiguous(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) +
                          ": expected a C-contiguous array (use numpy.ascontiguousarray)");
  }
}

// Raise ValueError unless `a` has one of the given ranks.
inline void require_ndim(const py::array& a, const char* name, std::initializer_list<int> ranks) {
  for (int r : ranks) {
    if (a.ndim() == r) return;
  }
  std::string want;
  for (int r : ranks) want += (want.empty() ? "" : " or ") + std::to_string(r);
  throw py::value_error(std::string(name) + ": expected " + want + " dimensions, got " +
                        std::to_string(a.ndim()));
}

// dtype + contiguity + rank in one call: the usual check of an input array.
template <class T>
void require_array(const py::array& a, const char* name, std::initializer_list<int> ranks) {
  require_dtype<T>(a, name);
  require_ndim(a, name, ranks);
  require_contiguous(a, name);
}

inline int64_t require_positive(int64_t v, const char* name) {
  if (v <= 0) throw py::value_error(std::string(name) + ": expected a positive value, got " + std::to_string(v));
  return v;
}

// ---------------------------------------------------------------------------------------
// Randomness: one independent stream per (seed, sample index), so the output of a batch
// does not depend on how its samples are shared among threads.
// ---------------------------------------------------------------------------------------

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : state_(mix(seed + mix(stream + kGolden))) {}

  uint64_t next() {
    state_ += kGolden;
    return mix(state_);
  }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(hi - lo + 1)); }
  // Uniform double in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  static uint64_t mix(uint64_t z) {  // SplitMix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------
// Parallel loop
// ---------------------------------------------------------------------------------------

// Number of threads to use: `requested` if positive, else every hardware thread; never
// more than there are work items.
inline int resolve_threads(int requested, int64_t items) {
  if (requested < 0) throw py::value_error("threads: expected None, 0 or a positive count, got " + std::to_string(requested));
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, items)));
}

// Call fn(begin, end) on `threads` contiguous chunks of [0, n). Call it with the GIL
// released; fn must not touch Python objects. The first exception thrown is rethrown.
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
  for (int t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace svhnx
