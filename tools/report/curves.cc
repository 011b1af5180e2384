#include "tools/report/curves.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/report/format.h"

namespace forge {
namespace {

constexpr int kDotsUpTo = 60;  // series with at most this many points get a dot per point

struct PhaseStyle {
  const char* phase;
  const char* label;
  Rgb color;
};

const PhaseStyle kPhases[] = {{"train", "train", plot_colors::kBlue},
                              {"val", "val", plot_colors::kOrange},
                              {"val_ema", "val EMA", plot_colors::kGreen}};

// One per-epoch series of `phase` with `metric`; values for which `keep` is false are left out.
PlotSeries EpochSeries(const TrainLog& log, const PhaseStyle& style, double (EpochMetrics::*metric)() const,
                       bool (*keep)(double) = nullptr) {
  PlotSeries series;
  series.label = style.label;
  series.color = style.color;
  for (const EpochMetrics& row : log.epochs()) {
    if (row.phase() != style.phase) continue;
    const double value = (row.*metric)();
    if (keep != nullptr && !keep(value)) continue;
    series.x.push_back(row.epoch());
    series.y.push_back(value);
  }
  series.dots = series.x.size() <= kDotsUpTo;
  return series;
}

bool Positive(double value) { return value > 0; }

LinePlot EpochPlot(std::string title, std::string y_label) {
  LinePlot plot(std::move(title), "epoch", std::move(y_label));
  plot.set_integer_x(true);
  return plot;
}

// Whether the steps carry fractional epochs (else they are plotted against the step number).
bool StepsHaveEpochs(const TrainLog& log) {
  for (const StepPoint& step : log.steps()) {
    if (step.epoch() != 0) return true;
  }
  return false;
}

}  // namespace

LinePlot LossPlot(const TrainLog& normalized) {
  LinePlot plot = EpochPlot("Loss", "loss");
  bool step_losses = false;
  for (const StepPoint& step : normalized.steps()) step_losses |= step.loss() != 0;
  if (step_losses && StepsHaveEpochs(normalized)) {
    PlotSeries steps;
    steps.label = "train (per step)";
    steps.color = plot_colors::kBlue;
    steps.alpha = 0.3;
    steps.width = 1.2;
    for (const StepPoint& step : normalized.steps()) {
      steps.x.push_back(step.epoch());
      steps.y.push_back(step.loss());
    }
    plot.AddSeries(std::move(steps));
  }
  for (const PhaseStyle& style : kPhases) plot.AddSeries(EpochSeries(normalized, style, &EpochMetrics::loss));
  return plot;
}

LinePlot AccuracyPlot(const TrainLog& normalized) {
  LinePlot plot = EpochPlot("Accuracy", "accuracy (%)");
  for (const PhaseStyle& style : kPhases) {
    PlotSeries top1 = EpochSeries(normalized, style, &EpochMetrics::top1);
    top1.label = absl::StrCat(style.label, " top-1");
    plot.AddSeries(std::move(top1));
    PlotSeries top5 = EpochSeries(normalized, style, &EpochMetrics::top5);
    top5.label = absl::StrCat(style.label, " top-5");
    top5.style = LineStyle::kDashed;
    plot.AddSeries(std::move(top5));
  }
  return plot;
}

LinePlot LrPlot(const TrainLog& normalized) {
  if (normalized.steps_size() > 0) {
    const bool by_epoch = StepsHaveEpochs(normalized);
    LinePlot plot("Learning-rate schedule", by_epoch ? "epoch" : "step", "learning rate");
    plot.set_y_from_zero(true);
    PlotSeries series;
    series.label = "lr (per step)";
    series.color = plot_colors::kPurple;
    for (const StepPoint& step : normalized.steps()) {
      series.x.push_back(by_epoch ? step.epoch() : static_cast<double>(step.step()));
      series.y.push_back(step.lr());
    }
    series.dots = series.x.size() <= kDotsUpTo;
    plot.AddSeries(std::move(series));
    return plot;
  }
  LinePlot plot = EpochPlot("Learning-rate schedule", "learning rate");
  plot.set_y_from_zero(true);
  PlotSeries series = EpochSeries(normalized, kPhases[0], &EpochMetrics::lr);
  series.label = "lr (end of epoch)";
  series.color = plot_colors::kPurple;
  plot.AddSeries(std::move(series));
  return plot;
}

LinePlot ThroughputPlot(const TrainLog& normalized) {
  LinePlot plot = EpochPlot("Training throughput", "images / s");
  plot.set_y_from_zero(true);
  plot.AddSeries(EpochSeries(normalized, kPhases[0], &EpochMetrics::images_per_sec, &Positive));
  return plot;
}

LinePlot LrRangePlot(const LrCurve& curve) {
  LinePlot plot("LR range test", "learning rate (log scale)", "loss");
  plot.set_log_x(true);
  PlotSeries raw, smoothed;
  raw.label = "loss";
  raw.color = plot_colors::kBlue;
  raw.alpha = 0.35;
  raw.width = 1.2;
  smoothed.label = "smoothed loss";
  smoothed.color = plot_colors::kBlue;
  smoothed.width = 2.2;
  double lowest = std::numeric_limits<double>::infinity();
  double lowest_lr = 0;
  for (const LrPoint& point : curve.points()) {
    raw.x.push_back(point.lr());
    raw.y.push_back(point.loss());
    smoothed.x.push_back(point.lr());
    smoothed.y.push_back(point.smoothed_loss());
    if (point.smoothed_loss() < lowest) {
      lowest = point.smoothed_loss();
      lowest_lr = point.lr();
    }
  }
  // y range: everything up to the lowest smoothed loss, plus a margin; what diverges after it
  // is clipped.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const LrPoint& point : curve.points()) {
    for (double value : {point.loss(), point.smoothed_loss()}) {
      if (!std::isfinite(value)) continue;
      lo = std::min(lo, value);
      if (point.lr() <= lowest_lr) hi = std::max(hi, value);
    }
  }
  if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
    const double pad = (hi - lo) * 0.08;
    plot.set_y_range(lo - pad, hi + 2 * pad);
  }
  plot.AddSeries(std::move(raw));
  plot.AddSeries(std::move(smoothed));
  if (curve.suggested_lr() > 0) {
    PlotMarker marker;
    marker.x = curve.suggested_lr();
    marker.label = absl::StrCat("suggested ", FormatCompact(curve.suggested_lr()));
    marker.color = plot_colors::kRed;
    plot.AddMarker(std::move(marker));
  }
  if (curve.min_loss_lr_div10() > 0) {
    PlotMarker marker;
    marker.x = curve.min_loss_lr_div10();
    marker.label = absl::StrCat("min loss / 10: ", FormatCompact(curve.min_loss_lr_div10()));
    marker.color = plot_colors::kPurple;
    marker.style = LineStyle::kDotted;
    plot.AddMarker(std::move(marker));
  }
  return plot;
}

}  // namespace forge
