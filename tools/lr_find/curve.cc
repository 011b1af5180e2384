#include "tools/lr_find/curve.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace forge {
namespace {

constexpr int kSpikeHalfWindow = 5;           // the 11-point window of RemoveSpikes
constexpr double kSpikeScales = 5.0;          // how many noise scales make a spike
constexpr double kSpikeMinRelative = 0.02;    // and at least this fraction of the window's median
constexpr double kMadToSigma = 1.4826;        // median absolute deviation -> standard deviation
constexpr double kMinRelativeDescent = 0.02;  // the fall Suggest needs to call it a descent

double Median(std::vector<double> values) {
  const size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + middle);
  return (lower + upper) / 2;
}

double Smoothing(const LrFindSettings& settings) {
  return settings.smoothing() > 0 ? settings.smoothing() : kDefaultLrFindSmoothing;
}

}  // namespace

LrFindSettings DefaultLrFindSettings() {
  LrFindSettings settings;
  settings.set_start_lr(1e-7);
  settings.set_end_lr(10);
  settings.set_num_iter(100);
  settings.set_mode("exponential");
  settings.set_smoothing(kDefaultLrFindSmoothing);
  settings.set_diverge_factor(kDefaultDivergeFactor);
  return settings;
}

absl::Status ValidateLrFindSettings(const LrFindSettings& s) {
  if (!(std::isfinite(s.start_lr()) && s.start_lr() > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--start_lr must be a positive number, not ", s.start_lr()));
  }
  if (!(std::isfinite(s.end_lr()) && s.end_lr() > s.start_lr())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--end_lr must be finite and above --start_lr ", s.start_lr(), ", not ", s.end_lr()));
  }
  if (s.num_iter() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--num_iter must be at least 2, not ", s.num_iter()));
  }
  if (s.mode() != "exponential" && s.mode() != "linear") {
    return absl::InvalidArgumentError(absl::StrCat("--mode must be exponential or linear, not '", s.mode(), "'"));
  }
  if (!(s.smoothing() > 0 && s.smoothing() <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--smoothing must be in (0, 1], not ", s.smoothing()));
  }
  if (!(std::isfinite(s.diverge_factor()) && s.diverge_factor() > 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--diverge_factor must be above 1, not ", s.diverge_factor()));
  }
  if (s.batch_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--batch_size must not be negative, not ", s.batch_size()));
  }
  return absl::OkStatus();
}

double LrAtIteration(const LrFindSettings& settings, int64_t i) {
  const double t = static_cast<double>(i) / static_cast<double>(settings.num_iter() - 1);
  if (settings.mode() == "linear") return settings.start_lr() + (settings.end_lr() - settings.start_lr()) * t;
  return settings.start_lr() * std::pow(settings.end_lr() / settings.start_lr(), t);
}

double SmoothedLoss::Add(double loss) {
  avg_ = (1 - weight_) * avg_ + weight_ * loss;
  decay_power_ *= 1 - weight_;
  ++count_;
  // With weight 1 the correction is 1 / (1 - 0): no averaging at all.
  value_ = avg_ / (1 - decay_power_);
  return value_;
}

LrRangeTest::LrRangeTest(const LrFindSettings& settings)
    : smoothed_(Smoothing(settings)),
      diverge_factor_(settings.diverge_factor() > 0 ? settings.diverge_factor() : kDefaultDivergeFactor) {
  *curve_.mutable_settings() = settings;
}

bool LrRangeTest::Add(double loss) {
  if (done_) return false;
  const double lr = this->lr();
  const int64_t step = step_++;
  if (!std::isfinite(loss)) {
    curve_.set_diverged(true);
    done_ = true;
    return false;
  }
  const double smoothed = smoothed_.Add(loss);
  LrPoint* point = curve_.add_points();
  point->set_step(step);
  point->set_lr(lr);
  point->set_loss(loss);
  point->set_smoothed_loss(smoothed);
  if (!std::isfinite(smoothed) || (best_ > 0 && std::isfinite(best_) && smoothed > diverge_factor_ * best_)) {
    curve_.set_diverged(true);
    done_ = true;
  }
  best_ = std::min(best_, smoothed);
  if (step_ >= curve_.settings().num_iter()) done_ = true;
  return !done_;
}

LrCurve LrRangeTest::Finish() const {
  LrCurve curve = curve_;
  Suggest(&curve);
  return curve;
}

std::vector<double> RemoveSpikes(const std::vector<double>& losses, int* spikes) {
  const int n = static_cast<int>(losses.size());
  const int k = kSpikeHalfWindow;
  std::vector<double> cleaned = losses;
  if (spikes != nullptr) *spikes = 0;
  if (n < 2 * k + 1) return cleaned;
  for (int i = 0; i < n; ++i) {
    const int first = std::clamp(i - k, 0, n - 1 - 2 * k);
    const std::vector<double> window(losses.begin() + first, losses.begin() + first + 2 * k + 1);
    const double median = Median(window);
    std::vector<double> deviations;
    for (double loss : window) deviations.push_back(std::abs(loss - median));
    const double scale = kMadToSigma * Median(std::move(deviations));
    const double size = std::abs(losses[i] - median);
    if (size > kSpikeScales * scale && size > kSpikeMinRelative * std::abs(median)) {
      cleaned[i] = median;
      if (spikes != nullptr) ++*spikes;
    }
  }
  return cleaned;
}

double LeastSquaresSlope(const std::vector<double>& x, const std::vector<double>& y, int first, int last) {
  const int count = last - first + 1;
  double mean_x = 0, mean_y = 0;
  for (int j = first; j <= last; ++j) {
    mean_x += x[j];
    mean_y += y[j];
  }
  mean_x /= count;
  mean_y /= count;
  double sxy = 0, sxx = 0;
  for (int j = first; j <= last; ++j) {
    sxy += (x[j] - mean_x) * (y[j] - mean_y);
    sxx += (x[j] - mean_x) * (x[j] - mean_x);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

const char* SuggestionName(LrCurve::SuggestionStatus status) {
  switch (status) {
    case LrCurve::SUGGESTION_OK:
      return "ok";
    case LrCurve::SUGGESTION_TOO_FEW_POINTS:
      return "too_few_points";
    case LrCurve::SUGGESTION_NO_DESCENT:
      return "no_descent";
    default:
      return "unspecified";
  }
}

void Suggest(LrCurve* curve) {
  curve->set_suggested_lr(0);
  curve->set_min_loss_lr(0);
  curve->set_min_loss_lr_div10(0);
  curve->set_spikes_ignored(0);
  const int n = curve->points_size();
  if (n == 0) {
    curve->set_suggestion_status(LrCurve::SUGGESTION_TOO_FEW_POINTS);
    return;
  }
  std::vector<double> x(n), raw(n);
  for (int i = 0; i < n; ++i) {
    x[i] = std::log(curve->points(i).lr());
    raw[i] = curve->points(i).loss();
  }
  int spikes = 0;
  const std::vector<double> cleaned = RemoveSpikes(raw, &spikes);
  curve->set_spikes_ignored(spikes);
  SmoothedLoss smoother(Smoothing(curve->settings())), despiked_smoother(Smoothing(curve->settings()));
  std::vector<double> smoothed(n), s(n);
  for (int i = 0; i < n; ++i) {
    smoothed[i] = smoother.Add(raw[i]);
    s[i] = despiked_smoother.Add(cleaned[i]);
  }

  int m = n / 10;
  for (int i = m + 1; i < n; ++i) {
    if (smoothed[i] < smoothed[m]) m = i;
  }
  const double min_lr = curve->points(m).lr();
  curve->set_min_loss_lr(min_lr);
  curve->set_min_loss_lr_div10(min_lr / 10);
  if (n < kMinPointsToSuggest) {
    curve->set_suggestion_status(LrCurve::SUGGESTION_TOO_FEW_POINTS);
    return;
  }

  const int h = std::max(2, n / 10);
  const int first = h;
  const int last = std::min(m, n - 1 - h);
  curve->set_suggestion_status(LrCurve::SUGGESTION_NO_DESCENT);
  if (first > last) return;
  const double highest = *std::max_element(s.begin() + first, s.begin() + m + 1);
  if (highest - s[m] < kMinRelativeDescent * std::abs(highest)) return;
  int best = -1;
  double steepest = 0;
  for (int i = first; i <= last; ++i) {
    const double slope = LeastSquaresSlope(x, s, i - h, i + h);
    if (slope < steepest) {
      steepest = slope;
      best = i;
    }
  }
  if (best < 0) return;
  curve->set_suggested_lr(curve->points(best).lr());
  curve->set_suggestion_status(LrCurve::SUGGESTION_OK);
}

}  // namespace forge
