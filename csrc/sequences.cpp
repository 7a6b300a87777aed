// composite_sequences: the synthetic multi-digit generator of the original study, in bulk.
#include <cmath>
#include <cstring>

#include "svhnx/checks.hpp"
#include "svhnx/parallel.hpp"
#include "svhnx/rng.hpp"
#include "svhnx/rows.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

constexpr int64_t kSlots = 5;  // MAX_DIGITS
constexpr int64_t kBlank = 10;

int64_t draw_length(Rng& rng, const double* cumulative) {
  const double u = rng.uniform() * cumulative[kSlots - 1];
  for (int64_t k = 0; k < kSlots; ++k) {
    if (u < cumulative[k]) return k + 1;
  }
  return kSlots;  // unreachable unless rounding puts u on the total
}

// Write one h x (5 * row_bytes) image, row by row: each slot's digit row, or black where
// the slot's digit is null.
void composite_image(const uint8_t* const* slot_digit, int64_t h, int64_t row_bytes, uint8_t* out) {
  for (int64_t r = 0; r < h; ++r) {
    for (int64_t s = 0; s < kSlots; ++s, out += row_bytes) {
      if (slot_digit[s]) {
        copy_row(out, slot_digit[s] + r * row_bytes, row_bytes);
      } else {
        zero_row(out, row_bytes);
      }
    }
  }
}

py::tuple composite_sequences(const py::array& digits, const py::array& labels, int64_t batch_size,
                              uint64_t seed, const py::array& length_weights, int threads) {
  require_array<uint8_t>(digits, "digits", {3, 4});
  require_array<int64_t>(labels, "labels", {1});
  require_array<double>(length_weights, "length_weights", {1});
  if (batch_size < 0) throw py::value_error("batch_size: expected a non-negative count, got " + std::to_string(batch_size));

  const int64_t n = digits.shape(0), h = digits.shape(1), w = digits.shape(2);
  const int64_t c = digits.ndim() == 4 ? digits.shape(3) : 1;
  if (n == 0) throw py::value_error("digits: the digit bank is empty");
  if (h == 0 || w == 0 || c == 0) throw py::value_error("digits: images must have a non-zero height, width and channel count");
  if (labels.shape(0) != n) {
    throw py::value_error("labels: expected one label per digit (" + std::to_string(n) + "), got " +
                          std::to_string(labels.shape(0)));
  }
  const int64_t* label_data = labels.unchecked<int64_t, 1>().data(0);
  for (int64_t i = 0; i < n; ++i) {
    if (label_data[i] < 0 || label_data[i] > 9) {
      throw py::value_error("labels: expected digit classes 0-9, found " + std::to_string(label_data[i]) +
                            " at index " + std::to_string(i));
    }
  }
  if (length_weights.shape(0) != kSlots) {
    throw py::value_error("length_weights: expected 5 weights (lengths 1 to 5), got " +
                          std::to_string(length_weights.shape(0)));
  }
  double cumulative[kSlots];
  const double* weight = length_weights.unchecked<double, 1>().data(0);
  double total = 0.0;
  for (int64_t k = 0; k < kSlots; ++k) {
    if (!std::isfinite(weight[k]) || weight[k] < 0) {
      throw py::value_error("length_weights: expected finite, non-negative weights");
    }
    total += weight[k];
    cumulative[k] = total;
  }
  if (!(total > 0)) throw py::value_error("length_weights: at least one weight must be positive");

  const int64_t out_w = w * kSlots, row_bytes = w * c, image_bytes = h * out_w * c;
  py::array_t<uint8_t> images({batch_size, h, out_w, c});
  py::array_t<int64_t> targets({batch_size, kSlots});
  py::array_t<int64_t> lengths({batch_size});
  const uint8_t* src = static_cast<const uint8_t*>(digits.data());
  uint8_t* img = images.mutable_data();
  int64_t* tgt = targets.mutable_data();
  int64_t* len = lengths.mutable_data();
  const int nthreads = resolve_threads(threads, batch_size);

  {
    py::gil_scoped_release release;
    parallel_for(batch_size, nthreads, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        Rng rng(seed, static_cast<uint64_t>(b));
        const int64_t length = draw_length(rng, cumulative);
        const int64_t start = rng.between(0, kSlots - length);
        const uint8_t* slot_digit[kSlots];
        for (int64_t s = 0; s < kSlots; ++s) {
          const bool filled = s >= start && s < start + length;
          const int64_t pick = filled ? static_cast<int64_t>(rng.below(n)) : -1;
          tgt[b * kSlots + s] = filled ? label_data[pick] : kBlank;
          slot_digit[s] = filled ? src + pick * h * row_bytes : nullptr;
        }
        composite_image(slot_digit, h, row_bytes, img + b * image_bytes);
        len[b] = length;
      }
    });
  }
  return py::make_tuple(images, targets, lengths);
}

}  // namespace

void register_sequences(py::module_& m) {
  m.def("composite_sequences", &composite_sequences, py::arg("digits"), py::arg("labels"),
        py::arg("batch_size"), py::arg("seed"), py::arg("length_weights"), py::arg("threads"),
        "Composite a batch of 5-slot digit sequences from a digit bank.");
}

}  // namespace svhnx
