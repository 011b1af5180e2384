#include "lib/report/plot.h"

#include <cairo/cairo.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/report/ticks.h"

namespace forge {
namespace {

constexpr char kFontFamily[] = "DejaVu Sans";
constexpr double kTitleSize = 18;
constexpr double kLabelSize = 14;
constexpr double kTickSize = 12;
constexpr double kLegendSize = 13;
constexpr double kTickLength = 5;

struct Point {
  double x, y;
};

// Pixel geometry and the data ranges shown; x in log10 units on a log axis.
struct Frame {
  double left, top, right, bottom;
  double x_lo, x_hi, y_lo, y_hi;
  bool log_x;

  double X(double data_x) const {
    const double v = log_x ? std::log10(data_x) : data_x;
    return left + (v - x_lo) / (x_hi - x_lo) * (right - left);
  }
  double Y(double data_y) const { return bottom - (data_y - y_lo) / (y_hi - y_lo) * (bottom - top); }
};

bool Drawable(double x, double y, bool log_x) {
  return std::isfinite(x) && std::isfinite(y) && (!log_x || x > 0);
}

// Runs of consecutive drawable points of `series`, in data coordinates.
std::vector<std::vector<Point>> Runs(const PlotSeries& series, bool log_x) {
  std::vector<std::vector<Point>> runs;
  bool open = false;
  const size_t n = std::min(series.x.size(), series.y.size());
  for (size_t i = 0; i < n; ++i) {
    if (!Drawable(series.x[i], series.y[i], log_x)) {
      open = false;
      continue;
    }
    if (!open) runs.emplace_back();
    open = true;
    runs.back().push_back({series.x[i], series.y[i]});
  }
  return runs;
}

// Keeps, of every stretch of consecutive points in one pixel column, the first, lowest, highest
// and last: the stroke looks the same and costs a few points per column.
std::vector<Point> Thin(const std::vector<Point>& points) {
  std::vector<Point> out;
  size_t i = 0;
  while (i < points.size()) {
    const double column = std::floor(points[i].x);
    size_t end = i + 1;
    size_t low = i, high = i;
    while (end < points.size() && std::floor(points[end].x) == column) {
      if (points[end].y < points[low].y) low = end;
      if (points[end].y > points[high].y) high = end;
      ++end;
    }
    if (end - i <= 4) {
      out.insert(out.end(), points.begin() + i, points.begin() + end);
    } else {
      size_t keep[] = {i, std::min(low, high), std::max(low, high), end - 1};
      for (int k = 0; k < 4; ++k) {
        if (k == 0 || keep[k] != keep[k - 1]) out.push_back(points[keep[k]]);
      }
    }
    i = end;
  }
  return out;
}

void SetColor(cairo_t* cr, Rgb color, double alpha = 1) {
  cairo_set_source_rgba(cr, color.r, color.g, color.b, alpha);
}

void SetStyle(cairo_t* cr, LineStyle style, double width) {
  cairo_set_line_width(cr, width);
  const double unit = std::max(1.0, width);
  if (style == LineStyle::kDashed) {
    const double dashes[] = {6 * unit, 3.5 * unit};
    cairo_set_dash(cr, dashes, 2, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  } else if (style == LineStyle::kDotted) {
    const double dashes[] = {0, 2.5 * unit};
    cairo_set_dash(cr, dashes, 2, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  } else {
    cairo_set_dash(cr, nullptr, 0, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  }
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
}

void SetFont(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double TextWidth(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

double LineHeight(cairo_t* cr) {
  cairo_font_extents_t extents;
  cairo_font_extents(cr, &extents);
  return extents.ascent + extents.descent;
}

enum class HAlign { kLeft, kCenter, kRight };
enum class VAlign { kTop, kMiddle, kBottom };

// Draws `text` in the current font and colour, aligned to (x, y) as asked.
void DrawText(cairo_t* cr, const std::string& text, double x, double y, HAlign h, VAlign v) {
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  const double width = TextWidth(cr, text);
  if (h == HAlign::kCenter) x -= width / 2;
  if (h == HAlign::kRight) x -= width;
  if (v == VAlign::kTop) y += font.ascent;
  if (v == VAlign::kMiddle) y += (font.ascent - font.descent) / 2;
  if (v == VAlign::kBottom) y -= font.descent;
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
}

// Pixel-aligned coordinate for a crisp 1-pixel line.
double Crisp(double v) { return std::floor(v) + 0.5; }

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

struct LegendEntry {
  std::string label;
  Rgb color;
  LineStyle style;
  double width;
  double alpha;
  bool dot;
};

cairo_status_t WritePng(cairo_surface_t* surface, std::string* out) {
  return cairo_surface_write_to_png_stream(
      surface,
      [](void* closure, const unsigned char* data, unsigned int length) {
        static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
      },
      out);
}

// The data a plot shows, in axis units (log10 of x on a log axis): what its series and markers
// span, padded so that nothing touches the frame, or the fixed y range.
struct DataWindow {
  double x_lo, x_hi, y_lo, y_hi;
};

struct WindowOptions {
  bool log_x, integer_x, y_from_zero, fixed_y;
  double fixed_y_lo, fixed_y_hi;
};

double AxisX(double x, bool log_x) { return log_x ? std::log10(x) : x; }

DataWindow FitWindow(const std::vector<std::vector<std::vector<Point>>>& runs,
                     const std::vector<PlotMarker>& markers, const WindowOptions& options) {
  Range x_range, y_range;
  for (const std::vector<std::vector<Point>>& series_runs : runs) {
    for (const std::vector<Point>& run : series_runs) {
      for (const Point& p : run) {
        x_range.Add(AxisX(p.x, options.log_x));
        y_range.Add(p.y);
      }
    }
  }
  for (const PlotMarker& marker : markers) {
    if (Drawable(marker.x, 0, options.log_x)) x_range.Add(AxisX(marker.x, options.log_x));
  }
  if (options.y_from_zero) y_range.Add(0);
  DataWindow window;
  window.x_lo = x_range.lo;
  window.x_hi = x_range.hi;
  if (window.x_hi > window.x_lo) {
    const double pad = (window.x_hi - window.x_lo) * (options.integer_x && !options.log_x ? 0.03 : 0.02);
    window.x_lo -= pad;
    window.x_hi += pad;
  } else {
    const double pad = options.log_x ? 0.5
                                     : (window.x_lo == 0 ? 1
                                                         : std::max(std::abs(window.x_lo) * 0.1,
                                                                    options.integer_x ? 1.0 : 0.0));
    window.x_lo -= pad;
    window.x_hi += pad;
  }
  window.y_lo = y_range.lo;
  window.y_hi = y_range.hi;
  if (options.fixed_y && options.fixed_y_hi > options.fixed_y_lo) {
    window.y_lo = options.fixed_y_lo;
    window.y_hi = options.fixed_y_hi;
  } else if (window.y_hi > window.y_lo) {
    const double pad = (window.y_hi - window.y_lo) * 0.05;
    // With y_from_zero the range holds 0, and data that never goes below it starts at 0 exactly.
    window.y_lo = options.y_from_zero && window.y_lo == 0 ? 0 : window.y_lo - pad;
    window.y_hi += pad;
  } else {
    const double pad = window.y_lo == 0 ? 1 : std::abs(window.y_lo) * 0.1;
    window.y_lo -= pad;
    window.y_hi += pad;
  }
  return window;
}

// An RGB image surface and its drawing context, with the font rendering every plot uses
// (grayscale antialiasing, no hinting) so that output depends only on the fonts installed.
class Canvas {
 public:
  Canvas(int width, int height)
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)), cr_(cairo_create(surface_)) {
    cairo_font_options_t* font_options = cairo_font_options_create();
    cairo_font_options_set_antialias(font_options, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(font_options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(font_options, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr_, font_options);
    cairo_font_options_destroy(font_options);
    cairo_set_antialias(cr_, CAIRO_ANTIALIAS_GOOD);
  }
  ~Canvas() {
    if (cr_ != nullptr) cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }

  // Ends drawing and encodes the image; `title` names the plot in the error.
  absl::StatusOr<std::string> EncodePng(const std::string& title) {
    cairo_status_t status = cairo_status(cr_);
    cairo_destroy(cr_);
    cr_ = nullptr;
    std::string png;
    if (status == CAIRO_STATUS_SUCCESS) {
      cairo_surface_flush(surface_);
      status = WritePng(surface_, &png);
    }
    if (status != CAIRO_STATUS_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("cairo failed drawing '", title, "': ", cairo_status_to_string(status)));
    }
    return png;
  }

 private:
  cairo_surface_t* const surface_;
  cairo_t* cr_;
};

// Places the frame, the rectangle the data is drawn in, inside a `width` x `height` image:
// room on the left for the y label and the widest major y tick label, at the top for the
// title, at the bottom for the x tick labels and the x label.
Frame LayoutFrame(cairo_t* cr, int width, int height, const std::vector<Tick>& y_ticks,
                  const DataWindow& window, bool log_x) {
  SetFont(cr, kTickSize);
  double tick_label_width = 0;
  for (const Tick& tick : y_ticks) {
    if (tick.major) tick_label_width = std::max(tick_label_width, TextWidth(cr, tick.label));
  }
  const double tick_height = LineHeight(cr);
  SetFont(cr, kLabelSize);
  const double label_height = LineHeight(cr);
  SetFont(cr, kTitleSize, true);
  const double title_height = LineHeight(cr);
  Frame frame;
  frame.left = std::round(14 + label_height + 10 + tick_label_width + kTickLength + 6);
  frame.top = std::round(14 + title_height + 12);
  frame.right = width - 30;
  frame.bottom = std::round(height - (14 + label_height + 8 + tick_height + kTickLength + 4));
  frame.x_lo = window.x_lo;
  frame.x_hi = window.x_hi;
  frame.y_lo = window.y_lo;
  frame.y_hi = window.y_hi;
  frame.log_x = log_x;
  return frame;
}

// White background, then light grid lines: minor x ticks, then (darker) major x and all y ticks.
void DrawBackgroundAndGrid(cairo_t* cr, const Frame& frame, const std::vector<Tick>& x_ticks,
                           const std::vector<Tick>& y_ticks) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_line_width(cr, 1);
  for (int pass = 0; pass < 2; ++pass) {
    const bool major = pass == 1;
    cairo_set_source_rgb(cr, major ? 0.87 : 0.94, major ? 0.87 : 0.94, major ? 0.87 : 0.94);
    for (const Tick& tick : x_ticks) {
      if (tick.major != major) continue;
      const double x = Crisp(frame.X(tick.value));
      if (x < frame.left || x > frame.right) continue;
      cairo_move_to(cr, x, frame.top);
      cairo_line_to(cr, x, frame.bottom);
    }
    if (major) {
      for (const Tick& tick : y_ticks) {
        const double y = Crisp(frame.Y(tick.value));
        if (y < frame.top || y > frame.bottom) continue;
        cairo_move_to(cr, frame.left, y);
        cairo_line_to(cr, frame.right, y);
      }
    }
    cairo_stroke(cr);
  }
}

// Draws every series (`runs[s]`: the runs of series_[s]) clipped to the frame. The pixels drawn
// go to `occupied` for the legend placement; each labelled series that drew something gets a
// legend entry.
void DrawSeries(cairo_t* cr, const Frame& frame, const std::vector<PlotSeries>& series_list,
                const std::vector<std::vector<std::vector<Point>>>& runs, std::vector<Point>* occupied,
                std::vector<LegendEntry>* legend) {
  const double plot_width = frame.right - frame.left;
  cairo_save(cr);
  cairo_rectangle(cr, frame.left, frame.top, plot_width, frame.bottom - frame.top);
  cairo_clip(cr);
  for (size_t s = 0; s < series_list.size(); ++s) {
    const PlotSeries& series = series_list[s];
    SetColor(cr, series.color, series.alpha);
    SetStyle(cr, series.style, series.width);
    std::vector<Point> dots;
    bool drew = false;
    for (const std::vector<Point>& run : runs[s]) {
      std::vector<Point> pixels;
      pixels.reserve(run.size());
      for (const Point& p : run) pixels.push_back({frame.X(p.x), frame.Y(p.y)});
      if (series.dots || pixels.size() == 1) dots.insert(dots.end(), pixels.begin(), pixels.end());
      if (pixels.size() > 4 * plot_width) pixels = Thin(pixels);
      for (size_t i = 0; i < pixels.size(); ++i) {
        if (i == 0) {
          cairo_move_to(cr, pixels[i].x, pixels[i].y);
        } else {
          cairo_line_to(cr, pixels[i].x, pixels[i].y);
          // Sample the segment every few pixels for the legend placement.
          const double dx = pixels[i].x - pixels[i - 1].x, dy = pixels[i].y - pixels[i - 1].y;
          const int steps = std::min(200, static_cast<int>(std::hypot(dx, dy) / 4));
          for (int k = 1; k <= steps; ++k) {
            occupied->push_back({pixels[i - 1].x + dx * k / (steps + 1), pixels[i - 1].y + dy * k / (steps + 1)});
          }
        }
        occupied->push_back(pixels[i]);
      }
      drew = true;
    }
    cairo_stroke(cr);
    if (!dots.empty()) {
      cairo_set_dash(cr, nullptr, 0, 0);
      const double radius = std::max(2.5, series.width * 1.6);
      for (const Point& p : dots) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, p.x, p.y, radius, 0, 2 * M_PI);
      }
      cairo_fill(cr);
    }
    if (drew && !series.label.empty()) {
      legend->push_back({series.label, series.color, series.style, series.width, series.alpha, series.dots});
    }
  }
  cairo_restore(cr);
}

// Draws each marker's vertical line and its label on a translucent box, beside the line near
// the top (left of it where the right would overflow), staggered downwards so that close markers
// stay readable. Label boxes go to `occupied`, labelled markers to `legend`.
void DrawMarkers(cairo_t* cr, const Frame& frame, const std::vector<PlotMarker>& markers,
                 std::vector<Point>* occupied, std::vector<LegendEntry>* legend) {
  SetFont(cr, kLegendSize);
  const double marker_label_height = LineHeight(cr);
  int marker_row = 0;
  for (const PlotMarker& marker : markers) {
    if (!Drawable(marker.x, 0, frame.log_x)) continue;
    const double x = frame.X(marker.x);
    SetColor(cr, marker.color);
    SetStyle(cr, marker.style, 1.8);
    cairo_move_to(cr, x, frame.top);
    cairo_line_to(cr, x, frame.bottom);
    cairo_stroke(cr);
    if (marker.label.empty()) continue;
    const double text_width = TextWidth(cr, marker.label);
    const double y = frame.top + 8 + marker_row * (marker_label_height + 8);
    const bool right_side = x + 6 + text_width + 4 <= frame.right;
    const double text_x = right_side ? x + 6 : x - 6 - text_width;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, text_x - 3, y - 2, text_width + 6, marker_label_height + 4);
    cairo_fill(cr);
    SetColor(cr, marker.color);
    DrawText(cr, marker.label, text_x, y, HAlign::kLeft, VAlign::kTop);
    for (double px = text_x - 3; px <= text_x + text_width + 3; px += 4) {
      occupied->push_back({px, y + marker_label_height / 2});
    }
    legend->push_back({marker.label, marker.color, marker.style, 1.8, 1, false});
    ++marker_row;
  }
}

// The frame's outline, tick marks on its bottom and left sides and their labels. Line cap and
// join are left as the drawing before set them (they show on the tick ends).
void DrawAxes(cairo_t* cr, const Frame& frame, const std::vector<Tick>& x_ticks, const std::vector<Tick>& y_ticks) {
  cairo_set_dash(cr, nullptr, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, Crisp(frame.left), Crisp(frame.top), std::floor(frame.right) - std::floor(frame.left),
                  std::floor(frame.bottom) - std::floor(frame.top));
  cairo_stroke(cr);
  SetFont(cr, kTickSize);
  for (const Tick& tick : x_ticks) {
    const double x = Crisp(frame.X(tick.value));
    if (x < frame.left - 0.5 || x > frame.right + 0.5) continue;
    const double length = tick.major ? kTickLength : kTickLength * 0.6;
    cairo_move_to(cr, x, Crisp(frame.bottom));
    cairo_line_to(cr, x, Crisp(frame.bottom) + length);
    cairo_stroke(cr);
    if (tick.major) DrawText(cr, tick.label, x, frame.bottom + kTickLength + 3, HAlign::kCenter, VAlign::kTop);
  }
  for (const Tick& tick : y_ticks) {
    const double y = Crisp(frame.Y(tick.value));
    if (y < frame.top - 0.5 || y > frame.bottom + 0.5) continue;
    cairo_move_to(cr, Crisp(frame.left), y);
    cairo_line_to(cr, Crisp(frame.left) - kTickLength, y);
    cairo_stroke(cr);
    DrawText(cr, tick.label, frame.left - kTickLength - 4, y, HAlign::kRight, VAlign::kMiddle);
  }
}

// The x label under the frame, the y label rotated along its left side, the title above it.
void DrawTitleAndAxisLabels(cairo_t* cr, const Frame& frame, int height, const std::string& title,
                            const std::string& x_label, const std::string& y_label) {
  cairo_set_source_rgb(cr, 0, 0, 0);
  SetFont(cr, kLabelSize);
  DrawText(cr, x_label, (frame.left + frame.right) / 2, height - 12, HAlign::kCenter, VAlign::kBottom);
  cairo_save(cr);
  cairo_translate(cr, 14, (frame.top + frame.bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  DrawText(cr, y_label, 0, 0, HAlign::kCenter, VAlign::kTop);
  cairo_restore(cr);
  SetFont(cr, kTitleSize, true);
  DrawText(cr, title, (frame.left + frame.right) / 2, 14, HAlign::kCenter, VAlign::kTop);
}

// The legend box in the corner of the frame that covers the fewest `occupied` pixels (ties: top
// right, top left, bottom right, bottom left): a line sample (and dot) and the label per entry.
void DrawLegend(cairo_t* cr, const Frame& frame, const std::vector<LegendEntry>& legend,
                const std::vector<Point>& occupied) {
  if (legend.empty()) return;
  SetFont(cr, kLegendSize);
  const double row = LineHeight(cr) + 5, pad = 9, sample = 30;
  double text_width = 0;
  for (const LegendEntry& entry : legend) text_width = std::max(text_width, TextWidth(cr, entry.label));
  const double box_width = std::round(pad + sample + 8 + text_width + pad);
  const double box_height = std::round(pad * 2 + row * legend.size() - 5);
  const double inset = 10;
  const Point corners[] = {{frame.right - inset - box_width, frame.top + inset},
                           {frame.left + inset, frame.top + inset},
                           {frame.right - inset - box_width, frame.bottom - inset - box_height},
                           {frame.left + inset, frame.bottom - inset - box_height}};
  size_t best = 0, best_count = std::numeric_limits<size_t>::max();
  for (size_t c = 0; c < 4; ++c) {
    size_t count = 0;
    for (const Point& p : occupied) {
      if (p.x >= corners[c].x && p.x <= corners[c].x + box_width && p.y >= corners[c].y &&
          p.y <= corners[c].y + box_height) {
        ++count;
      }
    }
    if (count < best_count) {
      best = c;
      best_count = count;
    }
  }
  const double bx = Crisp(corners[best].x), by = Crisp(corners[best].y);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, bx, by, box_width, box_height);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t i = 0; i < legend.size(); ++i) {
    const LegendEntry& entry = legend[i];
    const double y = by + pad + row * i + (row - 5) / 2;
    SetColor(cr, entry.color, std::max(entry.alpha, 0.6));
    SetStyle(cr, entry.style, std::max(entry.width, 1.5));
    cairo_move_to(cr, bx + pad, y);
    cairo_line_to(cr, bx + pad + sample, y);
    cairo_stroke(cr);
    if (entry.dot) {
      cairo_arc(cr, bx + pad + sample / 2, y, std::max(2.5, entry.width * 1.6), 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    DrawText(cr, entry.label, bx + pad + sample + 8, y, HAlign::kLeft, VAlign::kMiddle);
  }
}

}  // namespace

LinePlot::LinePlot(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

void LinePlot::set_y_range(double lo, double hi) {
  fixed_y_ = true;
  y_lo_ = lo;
  y_hi_ = hi;
}

void LinePlot::AddSeries(PlotSeries series) { series_.push_back(std::move(series)); }

void LinePlot::AddMarker(PlotMarker marker) { markers_.push_back(std::move(marker)); }

bool LinePlot::HasData() const {
  for (const PlotSeries& series : series_) {
    const size_t n = std::min(series.x.size(), series.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (Drawable(series.x[i], series.y[i], log_x_)) return true;
    }
  }
  return false;
}

absl::StatusOr<std::string> LinePlot::RenderPng(int width, int height) const {
  if (width < 200 || height < 150 || width > 10000 || height > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("plot size ", width, "x", height, " is outside 200x150..10000x10000"));
  }
  if (!HasData()) {
    return absl::FailedPreconditionError(absl::StrCat("plot '", title_, "' has no data"));
  }
  std::vector<std::vector<std::vector<Point>>> runs;
  for (const PlotSeries& series : series_) runs.push_back(Runs(series, log_x_));
  const DataWindow window =
      FitWindow(runs, markers_, {log_x_, integer_x_, y_from_zero_, fixed_y_, y_lo_, y_hi_});
  const std::vector<Tick> x_ticks = log_x_ ? LogTicks(std::pow(10.0, window.x_lo), std::pow(10.0, window.x_hi))
                                           : LinearTicks(window.x_lo, window.x_hi, 8, integer_x_);
  const std::vector<Tick> y_ticks = LinearTicks(window.y_lo, window.y_hi, 6);

  // The drawing order matters: later layers cover earlier ones, and each step leaves cairo's
  // state (line cap, font) to the next.
  Canvas canvas(width, height);
  cairo_t* cr = canvas.cr();
  const Frame frame = LayoutFrame(cr, width, height, y_ticks, window, log_x_);
  DrawBackgroundAndGrid(cr, frame, x_ticks, y_ticks);
  std::vector<Point> occupied;  // pixels the legend should not cover
  std::vector<LegendEntry> legend;
  DrawSeries(cr, frame, series_, runs, &occupied, &legend);
  DrawMarkers(cr, frame, markers_, &occupied, &legend);
  DrawAxes(cr, frame, x_ticks, y_ticks);
  DrawTitleAndAxisLabels(cr, frame, height, title_, x_label_, y_label_);
  DrawLegend(cr, frame, legend, occupied);
  return canvas.EncodePng(title_);
}

}  // namespace forge
