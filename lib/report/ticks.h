// Where the ticks of a plot axis go and how they are labelled: "nice" steps of 1, 2 or 5 times
// a power of ten on linear axes, powers of ten on logarithmic ones.
#ifndef FORGE_LIB_REPORT_TICKS_H_
#define FORGE_LIB_REPORT_TICKS_H_

#include <string>
#include <vector>

namespace forge {

struct Tick {
  double value = 0;
  std::string label;   // empty for minor ticks
  bool major = true;   // major ticks get a label and a grid line
};

// The step of 1, 2 or 5 times a power of ten that cuts `span` into about `target` parts; at
// least 1 with `integer_step` (for axes of whole numbers such as epochs). `span` must be > 0.
double NiceStep(double span, int target, bool integer_step = false);

// The multiples of NiceStep(hi - lo, target) within [lo, hi] (lo < hi), all labelled with the
// same number of decimals ("0.5", "1.0", "1.5"), or in short scientific form ("2e-5") when
// every value is below 1e-3 or some reach 1e6.
std::vector<Tick> LinearTicks(double lo, double hi, int target = 6, bool integer_step = false);

// Ticks of a logarithmic axis over [lo, hi] (0 < lo < hi): powers of ten labelled "10⁻³"
// (every other one, or sparser, over many decades) and unlabelled minor ticks at 2..9 times
// them. A range with fewer than two powers of ten also labels 2× and 5× ("2×10⁻⁴"); one
// narrower than that gets linear ticks.
std::vector<Tick> LogTicks(double lo, double hi);

// "10" with `exponent` in superscript digits, e.g. "10⁻³" (UTF-8).
std::string PowerOfTenLabel(int exponent);

}  // namespace forge

#endif  // FORGE_LIB_REPORT_TICKS_H_
