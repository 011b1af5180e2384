// The arithmetic of the LR range test, apart from any model: the LR of each step, the smoothed
// loss, when to stop, and which LR to suggest from the recorded curve. RunLrFind (lr_find.h)
// drives it with real training steps; the tests here drive it with synthetic losses.
#ifndef FORGE_TOOLS_LR_FIND_CURVE_H_
#define FORGE_TOOLS_LR_FIND_CURVE_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "proto/lr_curve.pb.h"

namespace forge {

// The defaults of lr_find's flags; LrRangeTest and Suggest also take them for fields left at 0.
inline constexpr double kDefaultLrFindSmoothing = 0.05;
inline constexpr double kDefaultDivergeFactor = 5.0;

// start_lr 1e-7, end_lr 10, num_iter 100, exponential, smoothing 0.05, diverge_factor 5,
// batch_size 0 (the config's).
LrFindSettings DefaultLrFindSettings();

// OK if start_lr > 0, end_lr > start_lr (both finite), num_iter >= 2, mode "exponential" or
// "linear", smoothing in (0, 1], diverge_factor > 1 and batch_size >= 0. Otherwise
// InvalidArgument naming the flag (--start_lr, --end_lr, ...).
absl::Status ValidateLrFindSettings(const LrFindSettings& settings);

// The LR of step i (0 <= i < num_iter) of a valid range test, with t = i / (num_iter - 1):
//   exponential: start_lr * (end_lr / start_lr)^t
//   linear:      start_lr + (end_lr - start_lr) * t
// so step 0 runs at start_lr and step num_iter - 1 at end_lr.
double LrAtIteration(const LrFindSettings& settings, int64_t i);

// The exponential moving average of the losses, bias-corrected (as fastai's LR finder does):
// with w the weight of the new value (0.05),
//   avg_n = (1 - w) * avg_{n-1} + w * loss_n,  avg_{-1} = 0
//   smoothed_n = avg_n / (1 - (1 - w)^(n + 1))
// so the first smoothed value is the first loss and a constant loss stays constant (up to
// rounding).
//
//   SmoothedLoss smoothed(0.05);
//   smoothed.Add(2.3);  // 2.3
//   smoothed.Add(2.1);  // (0.95 * 0.115 + 0.105) / (1 - 0.95^2) = 2.1974...
class SmoothedLoss {
 public:
  // `weight` in (0, 1].
  explicit SmoothedLoss(double weight) : weight_(weight) {}
  // Adds a loss and returns the smoothed value after it.
  double Add(double loss);
  double value() const { return value_; }
  int64_t count() const { return count_; }

 private:
  double weight_;
  double avg_ = 0;
  double decay_power_ = 1;  // (1 - weight)^count
  double value_ = 0;
  int64_t count_ = 0;
};

// One range test in progress: which LR to run next, the points recorded so far, and whether to
// stop. Call lr(), run a training step at that LR, pass its loss to Add(); Add returns false when
// the test is over: num_iter points recorded, or diverged, which happens when a smoothed loss
// exceeds diverge_factor times the lowest smoothed loss before it (that point is recorded) or a
// loss is not finite (that point is not recorded: it has no value to plot).
//
//   LrRangeTest test(settings);  // valid settings
//   do {
//     SetLearningRate(optimizer, test.lr());
//     ...
//   } while (test.Add(loss));
//   LrCurve curve = test.Finish();  // with the suggestion
class LrRangeTest {
 public:
  explicit LrRangeTest(const LrFindSettings& settings);

  // The LR of the next step. Only meaningful while !done().
  double lr() const { return LrAtIteration(curve_.settings(), step_); }
  // The index of the next step (the number of steps recorded or refused so far).
  int64_t step() const { return step_; }
  bool done() const { return done_; }
  // Records the loss of the step just run at lr(). Returns !done().
  bool Add(double loss);
  // The recorded curve, settings and diverged flag, with Suggest() applied.
  LrCurve Finish() const;

 private:
  LrCurve curve_;
  SmoothedLoss smoothed_;
  double diverge_factor_;
  double best_ = std::numeric_limits<double>::infinity();
  int64_t step_ = 0;
  bool done_ = false;
};

// Raw losses with spikes replaced, for Suggest: a Hampel filter over windows of 11 losses
// (centred on the loss, shifted inwards for the first and last 5). A loss is a spike when it
// differs from its window's median by more than 5 times the window's noise scale (1.4826 times
// the median absolute deviation from that median) and by more than 2% of the median; it is
// replaced by the median. A steady rise or fall is not a spike (it widens the scale), nor is
// anything in a curve shorter than 11 losses. `spikes` (may be null) receives how many were
// replaced.
std::vector<double> RemoveSpikes(const std::vector<double>& losses, int* spikes);

// Least-squares slope of y against x over the points [first, last] (inclusive, at least two
// distinct x); 0 if all x are equal.
double LeastSquaresSlope(const std::vector<double>& x, const std::vector<double>& y, int first, int last);

// "ok", "too_few_points", "no_descent" or "unspecified": for summaries and messages.
const char* SuggestionName(LrCurve::SuggestionStatus status);

// The fewest points Suggest will judge.
inline constexpr int kMinPointsToSuggest = 10;

// Fills curve->suggested_lr, min_loss_lr, min_loss_lr_div10, suggestion_status and
// spikes_ignored from curve->points (their lr and raw loss; the smoothing weight from
// settings.smoothing, 0.05 when unset). With n points, x = ln(lr) and h = max(2, n / 10):
//   1. Minimum: m = the first index of the lowest smoothed loss (SmoothedLoss over the raw
//      losses: the recorded smoothed_loss) over [n / 10, n - 1] (the first tenth is the moving
//      average warming up); min_loss_lr = lr[m], min_loss_lr_div10 = lr[m] / 10.
//   2. Spikes: the raw losses go through RemoveSpikes, then through SmoothedLoss again, giving
//      the curve s that the slopes are taken of (the smoothed loss itself when no loss was
//      replaced).
//   3. Candidates: i in [h, min(m, n - 1 - h)]: the first and last h points are trimmed, and
//      only points up to the minimum count (after it the loss no longer falls).
//   4. Slope at i: the least-squares slope of s against x over the 2h + 1 points [i - h, i + h],
//      so that no single noisy step makes a steep one.
//   5. suggested_lr = lr[i] at the most negative slope (the lowest such i on ties).
// Status: SUGGESTION_TOO_FEW_POINTS when n < kMinPointsToSuggest (min_loss_lr still set when
// n > 0); SUGGESTION_NO_DESCENT when there is no candidate, no negative slope, or s falls by
// less than 2% from its highest value over [h, m] to s[m]; in both cases suggested_lr is 0,
// meaning "no suggestion". SUGGESTION_OK otherwise, and then suggested_lr <= min_loss_lr.
void Suggest(LrCurve* curve);

}  // namespace forge

#endif  // FORGE_TOOLS_LR_FIND_CURVE_H_
