#include "lib/report/ticks.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/report/format.h"

namespace forge {
namespace {

constexpr double kEpsilon = 1e-9;

std::string Superscript(int value) {
  static const char* const kDigits[] = {"\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
                                        "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
  std::string out = value < 0 ? "\u207b" : "";
  for (char digit : absl::StrCat(std::abs(value))) absl::StrAppend(&out, kDigits[digit - '0']);
  return out;
}

// `value` in scientific form with `significant` digits at most, trailing zeros of the mantissa
// and leading zeros of the exponent dropped: "1e-4", "1.5e+6".
std::string Scientific(double value, int significant) {
  std::string text = absl::StrFormat("%.*e", std::max(0, significant - 1), value);
  size_t e = text.find('e');
  if (text.find('.') < e) {
    size_t end = e;
    while (text[end - 1] == '0') --end;
    if (text[end - 1] == '.') --end;
    text.erase(end, e - end);
    e = end;
  }
  size_t digits = e + 2;
  while (digits + 1 < text.size() && text[digits] == '0') text.erase(digits, 1);
  return text;
}

}  // namespace

double NiceStep(double span, int target, bool integer_step) {
  const double raw = span / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  double nice = 10;
  if (normalised < 1.5) {
    nice = 1;
  } else if (normalised < 3) {
    nice = 2;
  } else if (normalised < 7) {
    nice = 5;
  }
  const double step = nice * magnitude;
  return integer_step ? std::max(1.0, std::round(step)) : step;
}

std::vector<Tick> LinearTicks(double lo, double hi, int target, bool integer_step) {
  std::vector<Tick> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  const double step = NiceStep(hi - lo, target, integer_step);
  const double first = std::ceil(lo / step - kEpsilon);
  const double last = std::floor(hi / step + kEpsilon);
  const double largest = std::max(std::abs(lo), std::abs(hi));
  const int step_exponent = static_cast<int>(std::floor(std::log10(step) + kEpsilon));
  const bool scientific = largest < 1e-3 || largest >= 1e6;
  const int decimals = std::max(0, -step_exponent);
  const int significant =
      std::max(1, static_cast<int>(std::floor(std::log10(largest) + kEpsilon)) - step_exponent + 1);
  for (double i = first; i <= last; ++i) {
    double value = i * step;
    if (std::abs(value) < step * kEpsilon) value = 0;
    Tick& tick = ticks.emplace_back();
    tick.value = value;
    if (!scientific) {
      tick.label = FormatFixed(value, decimals);
    } else {
      tick.label = value == 0 ? "0" : Scientific(value, significant);
    }
  }
  return ticks;
}

std::string PowerOfTenLabel(int exponent) { return absl::StrCat("10", Superscript(exponent)); }

std::vector<Tick> LogTicks(double lo, double hi) {
  std::vector<Tick> ticks;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return ticks;
  const int low = static_cast<int>(std::floor(std::log10(lo)));
  const int high = static_cast<int>(std::ceil(std::log10(hi)));
  auto in_range = [&](double value) {
    return value >= lo * (1 - kEpsilon) && value <= hi * (1 + kEpsilon);
  };
  int powers = 0;
  for (int k = low; k <= high; ++k) powers += in_range(std::pow(10.0, k)) ? 1 : 0;
  const bool label_two_five = powers < 2;
  // Over many decades label only every `every`-th power, keeping 10^0 among them if present.
  const int every = std::max(1, (powers + 9) / 10);
  for (int k = low; k <= high; ++k) {
    for (int m = 1; m <= 9; ++m) {
      const double value = m * std::pow(10.0, k);
      if (!in_range(value)) continue;
      Tick& tick = ticks.emplace_back();
      tick.value = value;
      if (m == 1) {
        tick.major = k % every == 0;
      } else {
        tick.major = label_two_five && (m == 2 || m == 5);
      }
      if (tick.major) {
        tick.label = m == 1 ? PowerOfTenLabel(k) : absl::StrCat(m, "\u00d7", PowerOfTenLabel(k));
      }
    }
  }
  int labelled = 0;
  for (const Tick& tick : ticks) labelled += tick.major ? 1 : 0;
  if (labelled < 2) return LinearTicks(lo, hi, 5);
  return ticks;
}

}  // namespace forge
