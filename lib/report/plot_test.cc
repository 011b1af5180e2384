#include "lib/report/plot.h"

#include <cairo/cairo.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge {
namespace {

// Decodes a PNG with cairo's reader; nullptr if it is not one.
cairo_surface_t* DecodePng(const std::string& png) {
  struct Reader {
    const std::string* bytes;
    size_t offset = 0;
  } reader{&png};
  cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(
      [](void* closure, unsigned char* data, unsigned int length) {
        auto* r = static_cast<Reader*>(closure);
        if (r->offset + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
        std::copy_n(r->bytes->data() + r->offset, length, data);
        r->offset += length;
        return CAIRO_STATUS_SUCCESS;
      },
      &reader);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return nullptr;
  }
  return surface;
}

// Pixels of `surface` within `tolerance` of `color` in each channel.
int CountColor(cairo_surface_t* surface, Rgb color, int tolerance = 10) {
  cairo_surface_flush(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  int count = 0;
  for (int y = 0; y < cairo_image_surface_get_height(surface); ++y) {
    for (int x = 0; x < cairo_image_surface_get_width(surface); ++x) {
      const uint32_t pixel = *reinterpret_cast<const uint32_t*>(data + y * stride + 4 * x);
      const int r = (pixel >> 16) & 255, g = (pixel >> 8) & 255, b = pixel & 255;
      if (std::abs(r - static_cast<int>(color.r * 255 + 0.5)) <= tolerance &&
          std::abs(g - static_cast<int>(color.g * 255 + 0.5)) <= tolerance &&
          std::abs(b - static_cast<int>(color.b * 255 + 0.5)) <= tolerance) {
        ++count;
      }
    }
  }
  return count;
}

// Keeps a rendered plot for people to look at when bazel provides an outputs directory.
void Keep(const std::string& name, const std::string& png) {
  if (const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << png;
  }
}

PlotSeries Series(std::string label, std::vector<double> x, std::vector<double> y, Rgb color) {
  PlotSeries series;
  series.label = std::move(label);
  series.x = std::move(x);
  series.y = std::move(y);
  series.color = color;
  return series;
}

TEST(LinePlotTest, ClassUsageExample) {
  LinePlot plot("Loss", "epoch", "loss");
  plot.set_integer_x(true);
  PlotSeries train;
  train.label = "train";
  train.x = {1, 2, 3};
  train.y = {2.5, 1.9, 1.6};
  train.color = plot_colors::kBlue;
  plot.AddSeries(std::move(train));
  absl::StatusOr<std::string> png = plot.RenderPng(1000, 600);
  ASSERT_TRUE(png.ok()) << png.status();
  Keep("usage.png", *png);
  cairo_surface_t* image = DecodePng(*png);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(cairo_image_surface_get_width(image), 1000);
  EXPECT_EQ(cairo_image_surface_get_height(image), 600);
  EXPECT_GT(CountColor(image, plot_colors::kBlue), 500);
  EXPECT_EQ(CountColor(image, plot_colors::kOrange), 0);
  cairo_surface_destroy(image);
}

TEST(LinePlotTest, SameInputSameBytes) {
  auto make = [] {
    LinePlot plot("Accuracy", "epoch", "top-1 (%)");
    plot.AddSeries(Series("train", {1, 2, 3, 4}, {10, 30, 45, 50}, plot_colors::kBlue));
    PlotSeries val = Series("val", {1, 2, 3, 4}, {12, 33, 41, 52}, plot_colors::kOrange);
    val.style = LineStyle::kDashed;
    val.dots = true;
    plot.AddSeries(val);
    return plot;
  };
  absl::StatusOr<std::string> first = make().RenderPng(800, 500);
  absl::StatusOr<std::string> second = make().RenderPng(800, 500);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(first->substr(1, 3), "PNG");
  EXPECT_EQ(first->find("tIME"), std::string::npos) << "no timestamp chunk";
  Keep("accuracy.png", *first);
}

TEST(LinePlotTest, LogAxisMarkersAndBrokenLines) {
  LinePlot plot("LR range test", "learning rate", "loss");
  plot.set_log_x(true);
  std::vector<double> x, y;
  for (int i = 0; i <= 100; ++i) {
    x.push_back(std::pow(10.0, -7 + 8.0 * i / 100));
    y.push_back(i == 50 ? std::nan("") : 7 - 3 * std::sin(i / 35.0));
  }
  x.push_back(-1);  // not on a log axis: skipped
  y.push_back(1);
  plot.AddSeries(Series("loss", x, y, plot_colors::kBlue));
  PlotMarker marker;
  marker.x = 1e-2;
  marker.label = "suggested 1e-2";
  marker.color = plot_colors::kRed;
  plot.AddMarker(marker);
  absl::StatusOr<std::string> png = plot.RenderPng(1000, 600);
  ASSERT_TRUE(png.ok()) << png.status();
  Keep("log.png", *png);
  cairo_surface_t* image = DecodePng(*png);
  ASSERT_NE(image, nullptr);
  EXPECT_GT(CountColor(image, plot_colors::kRed), 200);
  cairo_surface_destroy(image);
}

TEST(LinePlotTest, ManyPointsAreThinnedButStillDrawn) {
  LinePlot plot("LR schedule", "epoch", "learning rate");
  plot.set_y_from_zero(true);
  std::vector<double> x, y;
  for (int i = 0; i < 200000; ++i) {
    x.push_back(i / 2000.0);
    y.push_back(0.4 * std::cos(M_PI * i / 200000.0 / 2) + 0.01 * std::sin(i * 0.37));
  }
  plot.AddSeries(Series("lr", x, y, plot_colors::kPurple));
  absl::StatusOr<std::string> png = plot.RenderPng(1000, 600);
  ASSERT_TRUE(png.ok()) << png.status();
  Keep("many.png", *png);
  cairo_surface_t* image = DecodePng(*png);
  ASSERT_NE(image, nullptr);
  EXPECT_GT(CountColor(image, plot_colors::kPurple, 40), 5000);
  cairo_surface_destroy(image);
}

TEST(LinePlotTest, SinglePointsAndFlatLinesStillShow) {
  LinePlot plot("One epoch", "epoch", "img/s");
  plot.set_integer_x(true);
  plot.AddSeries(Series("train", {1}, {2470}, plot_colors::kGreen));
  absl::StatusOr<std::string> png = plot.RenderPng(600, 400);
  ASSERT_TRUE(png.ok()) << png.status();
  cairo_surface_t* image = DecodePng(*png);
  ASSERT_NE(image, nullptr);
  EXPECT_GT(CountColor(image, plot_colors::kGreen), 10);
  cairo_surface_destroy(image);
}

TEST(LinePlotTest, RefusesEmptyPlotsAndBadSizes) {
  LinePlot plot("Empty", "x", "y");
  plot.AddSeries(Series("nan", {1, 2}, {std::nan(""), std::nan("")}, plot_colors::kBlue));
  EXPECT_FALSE(plot.HasData());
  EXPECT_EQ(plot.RenderPng(1000, 600).status().code(), absl::StatusCode::kFailedPrecondition);
  plot.AddSeries(Series("ok", {1}, {1}, plot_colors::kBlue));
  EXPECT_TRUE(plot.HasData());
  EXPECT_EQ(plot.RenderPng(10, 10).status().code(), absl::StatusCode::kInvalidArgument);
}

// FNV-1a, 64 bits: a fingerprint of the PNG bytes small enough to live in the test.
uint64_t Fingerprint(const std::string& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

// Plots that exercise every part of the drawing: legends in each corner, markers labelled on
// either side and staggered, every line style, dots, transparency, clipping to a fixed y range,
// thinning, broken lines, a log axis, degenerate ranges.
std::vector<std::pair<std::string, LinePlot>> PinnedPlots() {
  std::vector<std::pair<std::string, LinePlot>> plots;
  {
    LinePlot plot("Loss", "epoch", "loss");
    plot.set_integer_x(true);
    std::vector<double> x, train, val;
    for (int i = 1; i <= 30; ++i) {
      x.push_back(i);
      train.push_back(6.9 * std::exp(-i / 8.0) + 1.2);
      val.push_back(6.5 * std::exp(-i / 9.0) + 1.4);
    }
    plot.AddSeries(Series("train", x, train, plot_colors::kBlue));
    PlotSeries v = Series("val", x, val, plot_colors::kOrange);
    v.style = LineStyle::kDashed;
    v.dots = true;
    plot.AddSeries(v);
    PlotSeries hidden = Series("", {1, 30}, {2, 2}, plot_colors::kGray);
    hidden.style = LineStyle::kDotted;
    hidden.alpha = 0.5;
    hidden.width = 1;
    plot.AddSeries(hidden);
    for (double at : {10.0, 11.0, 29.5}) {
      PlotMarker marker;
      marker.x = at;
      marker.label = absl::StrCat("marker at ", at);
      marker.color = at > 20 ? plot_colors::kRed : plot_colors::kGreen;
      marker.style = at > 20 ? LineStyle::kDotted : LineStyle::kDashed;
      plot.AddMarker(marker);
    }
    plot.AddMarker(PlotMarker{5, "", plot_colors::kPurple, LineStyle::kSolid});
    plots.emplace_back("loss", std::move(plot));
  }
  {
    LinePlot plot("Accuracy", "epoch", "top-1 (%)");
    plot.set_y_range(0, 100);
    plot.AddSeries(Series("rising", {0, 1, 2, 3, 4, 5}, {5, 40, 70, 90, 99, 130}, plot_colors::kBlue));
    plot.AddSeries(Series("high", {0, 5}, {95, 95}, plot_colors::kOrange));
    plots.emplace_back("accuracy", std::move(plot));
  }
  {
    LinePlot plot("Throughput", "epoch", "img/s");
    plot.set_y_from_zero(true);
    plot.AddSeries(Series("falling", {0, 1, 2, 3}, {100, 60, 30, 10}, plot_colors::kGreen));
    plot.AddSeries(Series("top", {2, 3}, {95, 90}, plot_colors::kPurple));
    plots.emplace_back("throughput", std::move(plot));
  }
  {
    LinePlot plot("LR range test", "learning rate", "loss");
    plot.set_log_x(true);
    std::vector<double> x, y;
    for (int i = 0; i <= 400; ++i) {
      x.push_back(std::pow(10.0, -7 + 8.0 * i / 400));
      y.push_back(i == 200 ? std::nan("") : 7 - 3 * std::sin(i / 140.0));
    }
    x.push_back(-1);
    y.push_back(1);
    plot.AddSeries(Series("loss", x, y, plot_colors::kBlue));
    plot.AddMarker(PlotMarker{1e-2, "suggested 1e-2", plot_colors::kRed, LineStyle::kDashed});
    plots.emplace_back("log", std::move(plot));
  }
  {
    LinePlot plot("LR schedule", "epoch", "learning rate");
    plot.set_y_from_zero(true);
    std::vector<double> x, y;
    for (int i = 0; i < 20000; ++i) {
      x.push_back(i / 200.0);
      y.push_back(0.4 * std::cos(M_PI * i / 20000.0 / 2) + 0.01 * std::sin(i * 0.37));
    }
    PlotSeries lr = Series("lr", x, y, plot_colors::kPurple);
    lr.width = 1.2;
    plot.AddSeries(lr);
    plots.emplace_back("many", std::move(plot));
  }
  {
    LinePlot plot("One point", "epoch", "img/s");
    plot.set_integer_x(true);
    plot.AddSeries(Series("train", {3}, {2470}, plot_colors::kGreen));
    plots.emplace_back("single", std::move(plot));
  }
  {
    LinePlot plot("Flat at zero", "step", "value");
    plot.AddSeries(Series("zero", {0, 0}, {0, 0}, plot_colors::kGray));
    plots.emplace_back("flat", std::move(plot));
  }
  return plots;
}

// The renderer's output is pinned byte for byte, so that a refactoring of the drawing code that
// changes a single pixel fails here. The fingerprints hold for the cairo, pixman, zlib and
// DejaVu fonts of the Debian release the project builds on; after an upgrade of those (or a
// deliberate change of the drawing), look at the PNGs kept in the test's outputs and update the
// fingerprints this test prints.
TEST(LinePlotTest, RenderingIsPinned) {
  const std::map<std::string, uint64_t> expected = {
      {"loss", 0x4bf111ab5d8368a0ULL},
      {"accuracy", 0xc6bd456c9e0ae977ULL},
      {"throughput", 0xe1f7b3e583f59057ULL},
      {"log", 0x6b7fc71abea9c57fULL},
      {"many", 0xb13751fbd02cf16aULL},
      {"single", 0xe9bcf5e67d3f3b74ULL},
      {"flat", 0x9e2f2877e7114ef8ULL},
  };
  for (const auto& [name, plot] : PinnedPlots()) {
    absl::StatusOr<std::string> png = plot.RenderPng(name == "single" ? 600 : 900, 500);
    ASSERT_TRUE(png.ok()) << name << ": " << png.status();
    Keep(absl::StrCat("pinned_", name, ".png"), *png);
    EXPECT_EQ(Fingerprint(*png), expected.at(name))
        << name << ": the PNG changed; its fingerprint is now " << absl::StrFormat("0x%016x", Fingerprint(*png));
  }
}

}  // namespace
}  // namespace forge
