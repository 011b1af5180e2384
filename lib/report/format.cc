#include "lib/report/format.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace forge {
namespace {

// Non-finite values as text, or empty when `value` is finite.
std::string NonFinite(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return "";
}

// Drops the sign of a result that is all zeros ("-0.00" -> "0.00", "-0" -> "0").
std::string DropNegativeZero(std::string text) {
  if (text.empty() || text[0] != '-') return text;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == 'e' || c == 'E') break;
    if (c >= '1' && c <= '9') return text;
  }
  return text.substr(1);
}

}  // namespace

std::string FormatG(double value, int significant) {
  if (std::string special = NonFinite(value); !special.empty()) return special;
  return DropNegativeZero(absl::StrFormat("%.*g", significant, value));
}

std::string FormatFixed(double value, int decimals) {
  if (std::string special = NonFinite(value); !special.empty()) return special;
  return DropNegativeZero(absl::StrFormat("%.*f", decimals, value));
}

std::string FormatThousands(int64_t value) {
  std::string digits = absl::StrFormat("%d", value);
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return negative ? "-" + out : out;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  if (seconds < 60) return absl::StrFormat("%.1fs", seconds);
  const int64_t total = static_cast<int64_t>(std::llround(seconds));
  const int64_t hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  if (hours == 0) return absl::StrFormat("%dm %02ds", minutes, secs);
  return absl::StrFormat("%dh %02dm %02ds", hours, minutes, secs);
}

std::string FormatCompact(double value, int significant) {
  std::string text = FormatG(value, significant);
  const size_t e = text.find('e');
  if (e == std::string::npos) return text;
  // "1.5e-05" -> "1.5e-5", "2e+06" -> "2e+6".
  size_t digits = e + 2;
  while (digits + 1 < text.size() && text[digits] == '0') text.erase(digits, 1);
  return text;
}

int Utf8Length(absl::string_view text) {
  int length = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++length;
  }
  return length;
}

}  // namespace forge
