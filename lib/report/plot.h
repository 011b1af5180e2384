// Line plots rendered to PNG with cairo: series (solid, dashed or dotted, optionally dotted at
// every point), linear or logarithmic x, nice ticks, grid, axis labels, title, a legend in the
// emptiest corner, and labelled vertical markers. The output depends only on the plot and the
// fonts installed (DejaVu Sans from fonts-dejavu-core): no timestamps, so the same plot gives
// the same bytes.
#ifndef FORGE_LIB_REPORT_PLOT_H_
#define FORGE_LIB_REPORT_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge {

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1
};

// matplotlib's default colour cycle ("tab10"), which readers of training curves know.
namespace plot_colors {
inline constexpr Rgb kBlue{0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0};
inline constexpr Rgb kOrange{0xff / 255.0, 0x7f / 255.0, 0x0e / 255.0};
inline constexpr Rgb kGreen{0x2c / 255.0, 0xa0 / 255.0, 0x2c / 255.0};
inline constexpr Rgb kRed{0xd6 / 255.0, 0x27 / 255.0, 0x28 / 255.0};
inline constexpr Rgb kPurple{0x94 / 255.0, 0x67 / 255.0, 0xbd / 255.0};
inline constexpr Rgb kGray{0x7f / 255.0, 0x7f / 255.0, 0x7f / 255.0};
}  // namespace plot_colors

enum class LineStyle { kSolid, kDashed, kDotted };

struct PlotSeries {
  std::string label;            // legend entry; empty: not in the legend
  std::vector<double> x, y;     // same length; a non-finite value (or x <= 0 on a log axis)
                                // breaks the line there
  Rgb color;
  LineStyle style = LineStyle::kSolid;
  double width = 2;             // line width in pixels
  double alpha = 1;             // opacity
  bool dots = false;            // a dot at every point (isolated points always get one)
};

// A vertical line across the plot at `x`, labelled beside it near the top and in the legend.
struct PlotMarker {
  double x = 0;
  std::string label;
  Rgb color;
  LineStyle style = LineStyle::kDashed;
};

// A line plot, drawn at whatever size RenderPng is asked for.
//
//   LinePlot plot("Loss", "epoch", "loss");
//   plot.set_integer_x(true);
//   PlotSeries train;
//   train.label = "train";
//   train.x = {1, 2, 3};
//   train.y = {2.5, 1.9, 1.6};
//   train.color = plot_colors::kBlue;
//   plot.AddSeries(std::move(train));
//   absl::StatusOr<std::string> png = plot.RenderPng(1000, 600);
class LinePlot {
 public:
  LinePlot(std::string title, std::string x_label, std::string y_label);

  // Logarithmic x axis (only x > 0 is drawn). Default: linear.
  void set_log_x(bool log_x) { log_x_ = log_x; }
  // Ticks of the linear x axis at whole numbers only (epochs). Default: false.
  void set_integer_x(bool integer_x) { integer_x_ = integer_x; }
  // The y axis includes 0 (rates, learning rates). Default: false, it fits the data.
  void set_y_from_zero(bool from_zero) { y_from_zero_ = from_zero; }
  // A fixed y range (lo < hi); what lies outside is clipped. Default: fit the data.
  void set_y_range(double lo, double hi);

  void AddSeries(PlotSeries series);
  void AddMarker(PlotMarker marker);

  // Whether any series has a point that can be drawn.
  bool HasData() const;

  // The plot as a PNG (8-bit RGB, no alpha) of `width` x `height` pixels. Series with more
  // points than a few per pixel column are thinned to each column's first, lowest, highest and
  // last point, which draws the same picture much faster. Fails with FailedPrecondition when
  // there is nothing to draw, InvalidArgument for a size under 200x150 or over 10000x10000, and
  // Internal when cairo fails.
  absl::StatusOr<std::string> RenderPng(int width, int height) const;

 private:
  std::string title_, x_label_, y_label_;
  bool log_x_ = false;
  bool integer_x_ = false;
  bool y_from_zero_ = false;
  bool fixed_y_ = false;
  double y_lo_ = 0, y_hi_ = 1;
  std::vector<PlotSeries> series_;
  std::vector<PlotMarker> markers_;
};

}  // namespace forge

#endif  // FORGE_LIB_REPORT_PLOT_H_
