// SceneGenerator: the Python face of the street-number scene generator (scenes_plan.cpp plans,
// scenes_render.cpp draws). Inputs are validated here, once, with the GIL held.
#include <string>
#include <vector>

#include "svhnx/checks.hpp"
#include "svhnx/parallel.hpp"
#include "ops.hpp"
#include "scenes.hpp"

namespace svhnx {
namespace {

using scenes::kCell;
using scenes::kMaxDigits;
using scenes::Plan;
using scenes::Realism;

void require_shape(const py::array& a, const char* name, int64_t dim, int64_t expected, const std::string& what) {
  if (a.shape(dim) != expected) {
    throw py::value_error(std::string(name) + ": expected " + what + " (" + std::to_string(expected) + ") along axis " +
                          std::to_string(dim) + ", got " + std::to_string(a.shape(dim)));
  }
}

double require_unit(double v, const char* name) {
  if (!(v >= 0 && v <= 1)) throw py::value_error(std::string(name) + ": expected a value in [0, 1], got " + std::to_string(v));
  return v;
}

class SceneGenerator {
 public:
  SceneGenerator(const py::array& fields, const py::array& labels, const py::array& styles, const py::array& ink,
                 const py::array& scales, const py::array& style_weights, const py::array& layouts,
                 const py::array& digit_probs, const py::array& digit_aspects) {
    require_array<uint8_t>(fields, "fields", {3});
    require_array<int64_t>(labels, "labels", {1});
    require_array<int64_t>(styles, "styles", {1});
    require_array<float>(ink, "ink", {2});
    require_array<float>(scales, "scales", {1});
    require_array<double>(style_weights, "style_weights", {1});
    require_array<float>(layouts, "layouts", {2});
    require_array<double>(digit_probs, "digit_probs", {3});
    require_array<double>(digit_aspects, "digit_aspects", {1});
    const int64_t n = fields.shape(0);
    if (n == 0) throw py::value_error("fields: the glyph atlas is empty");
    require_shape(fields, "fields", 1, kCell, "the atlas cell height");
    require_shape(fields, "fields", 2, kCell, "the atlas cell width");
    require_shape(labels, "labels", 0, n, "one label per glyph");
    require_shape(styles, "styles", 0, n, "one style per glyph");
    require_shape(ink, "ink", 0, n, "one ink box per glyph");
    require_shape(ink, "ink", 1, 4, "left, top, width, height");
    require_shape(scales, "scales", 0, n, "one scale per glyph");
    if (style_weights.shape(0) == 0) throw py::value_error("style_weights: expected at least one style");
    if (layouts.shape(0) == 0) throw py::value_error("layouts: expected at least one layout row");
    require_shape(layouts, "layouts", 1, scenes::kLayoutColumns, "layout columns");
    for (int d = 0; d < 3; ++d) require_shape(digit_probs, "digit_probs", d, d < 2 ? kMaxDigits : 10, "lengths, positions, digits [5, 5, 10]");
    require_shape(digit_aspects, "digit_aspects", 0, 10, "one aspect ratio per digit");
    tables_ = scenes::make_tables(
        static_cast<const uint8_t*>(fields.data()), static_cast<const int64_t*>(labels.data()),
        static_cast<const int64_t*>(styles.data()), static_cast<const float*>(ink.data()),
        static_cast<const float*>(scales.data()), n, static_cast<const double*>(style_weights.data()),
        style_weights.shape(0), static_cast<const float*>(layouts.data()), layouts.shape(0),
        static_cast<const double*>(digit_probs.data()), static_cast<const double*>(digit_aspects.data()));
  }

  // Whole scenes: (list of uint8 H x W x 3 images, boxes float32 [B, 5, 4], digits int64 [B, 5], lengths int64 [B]).
  py::tuple scenes(int64_t count, uint64_t seed, int64_t first, double background, double style, double distortion,
                   double degradation, double annotation, double arrangement, double suffix, int threads) const {
    const Realism r = realism(count, first, background, style, distortion, degradation, annotation, arrangement, suffix);
    std::vector<Plan> plans(count);
    const int nthreads = resolve_threads(threads, count);
    {
      py::gil_scoped_release release;
      parallel_for(count, nthreads, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          Rng rng(seed, static_cast<uint64_t>(first + b));
          plans[b] = scenes::plan_scene(tables_, r, rng, 0);
        }
      });
    }
    py::list images;
    std::vector<uint8_t*> pixels(count);
    for (int64_t b = 0; b < count; ++b) {
      py::array_t<uint8_t> img({static_cast<int64_t>(plans[b].out_h), static_cast<int64_t>(plans[b].out_w), int64_t{3}});
      pixels[b] = img.mutable_data();
      images.append(img);
    }
    {
      py::gil_scoped_release release;
      parallel_for(count, nthreads, [&](int64_t begin, int64_t end) {
        std::vector<float> scratch;
        for (int64_t b = begin; b < end; ++b) scenes::render_scene(tables_, plans[b], pixels[b], scratch);
      });
    }
    py::tuple labels = annotations(plans);
    return py::make_tuple(images, labels[0], labels[1], labels[2]);
  }

  // Number crops: (images uint8 [B, size, size, 3], boxes float32 [B, 5, 4], digits int64 [B, 5], lengths int64 [B]).
  py::tuple crops(int64_t count, uint64_t seed, int64_t first, int64_t size, double background, double style,
                  double distortion, double degradation, double annotation, double arrangement, double suffix, int threads) const {
    const Realism r = realism(count, first, background, style, distortion, degradation, annotation, arrangement, suffix);
    if (size < 8 || size > 1024) throw py::value_error("size: expected a crop side in [8, 1024], got " + std::to_string(size));
    py::array_t<uint8_t> images({count, size, size, int64_t{3}});
    uint8_t* out = images.mutable_data();
    std::vector<Plan> plans(count);
    const int nthreads = resolve_threads(threads, count);
    {
      py::gil_scoped_release release;
      parallel_for(count, nthreads, [&](int64_t begin, int64_t end) {
        std::vector<float> scratch;
        for (int64_t b = begin; b < end; ++b) {
          Rng rng(seed, static_cast<uint64_t>(first + b));
          plans[b] = scenes::plan_scene(tables_, r, rng, static_cast<int>(size));
          scenes::render_scene(tables_, plans[b], out + b * size * size * 3, scratch);
        }
      });
    }
    py::tuple labels = annotations(plans);
    return py::make_tuple(images, labels[0], labels[1], labels[2]);
  }

  int64_t num_glyphs() const { return tables_.n_glyphs; }
  int64_t num_styles() const { return tables_.n_styles; }
  int64_t num_layouts() const { return tables_.n_layouts; }

 private:
  static Realism realism(int64_t count, int64_t first, double background, double style, double distortion,
                         double degradation, double annotation, double arrangement, double suffix) {
    if (count < 0) throw py::value_error("count: expected a non-negative count, got " + std::to_string(count));
    if (first < 0) throw py::value_error("first: expected a non-negative sample index, got " + std::to_string(first));
    Realism r;
    r.background = require_unit(background, "background");
    r.style = require_unit(style, "style");
    r.distortion = require_unit(distortion, "distortion");
    r.degradation = require_unit(degradation, "degradation");
    r.annotation = require_unit(annotation, "annotation");
    r.arrangement = require_unit(arrangement, "arrangement");
    r.suffix = require_unit(suffix, "suffix");
    return r;
  }

  // Boxes (unused slots zero), digits (unused slots blank) and lengths of planned scenes.
  static py::tuple annotations(const std::vector<Plan>& plans) {
    const int64_t count = static_cast<int64_t>(plans.size());
    py::array_t<float> boxes({count, int64_t{kMaxDigits}, int64_t{4}});
    py::array_t<int64_t> digits({count, int64_t{kMaxDigits}});
    py::array_t<int64_t> lengths({count});
    float* bx = boxes.mutable_data();
    int64_t* dg = digits.mutable_data();
    int64_t* ln = lengths.mutable_data();
    for (int64_t b = 0; b < count; ++b) {
      const Plan& p = plans[b];
      ln[b] = p.length;
      for (int i = 0; i < kMaxDigits; ++i) {
        dg[b * kMaxDigits + i] = i < p.length ? p.labels[i] : scenes::kBlank;
        for (int k = 0; k < 4; ++k) bx[(b * kMaxDigits + i) * 4 + k] = i < p.length ? p.boxes[i][k] : 0.f;
      }
    }
    return py::make_tuple(boxes, digits, lengths);
  }

  scenes::Tables tables_;
};

}  // namespace

void register_scenes(py::module_& m) {
  py::class_<SceneGenerator>(m, "SceneGenerator", "Street-number scene generator (use svhnx.synth.SceneGenerator).")
      .def(py::init<const py::array&, const py::array&, const py::array&, const py::array&, const py::array&,
                    const py::array&, const py::array&, const py::array&, const py::array&>(),
           py::arg("fields"), py::arg("labels"), py::arg("styles"), py::arg("ink"), py::arg("scales"),
           py::arg("style_weights"), py::arg("layouts"), py::arg("digit_probs"), py::arg("digit_aspects"))
      .def("scenes", &SceneGenerator::scenes, py::arg("count"), py::arg("seed"), py::arg("first"),
           py::arg("background"), py::arg("style"), py::arg("distortion"), py::arg("degradation"), py::arg("annotation"), py::arg("arrangement"), py::arg("suffix"), py::arg("threads"),
           "Whole scenes: (images list, boxes [B,5,4], digits [B,5], lengths [B]).")
      .def("crops", &SceneGenerator::crops, py::arg("count"), py::arg("seed"), py::arg("first"), py::arg("size"),
           py::arg("background"), py::arg("style"), py::arg("distortion"), py::arg("degradation"), py::arg("annotation"), py::arg("arrangement"), py::arg("suffix"), py::arg("threads"),
           "Expanded number-box crops: (images [B,S,S,3], boxes [B,5,4], digits [B,5], lengths [B]).")
      .def_property_readonly("num_glyphs", &SceneGenerator::num_glyphs)
      .def_property_readonly("num_styles", &SceneGenerator::num_styles)
      .def_property_readonly("num_layouts", &SceneGenerator::num_layouts);
}

}  // namespace svhnx
