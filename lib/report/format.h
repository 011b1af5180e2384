// Deterministic text for numbers in reports: the same value always prints the same way, on any
// machine and locale, with no "-0" and fixed spellings for non-finite values.
#ifndef FORGE_LIB_REPORT_FORMAT_H_
#define FORGE_LIB_REPORT_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace forge {

// printf's "%.<significant>g" (default 6 significant digits, e.g. 0.1, 76.1235, 1e-05), with
// "nan", "inf" and "-inf" for non-finite values and "0" for negative zero.
std::string FormatG(double value, int significant = 6);

// printf's "%.<decimals>f", e.g. FormatFixed(76.125, 2) == "76.12" (round half to even on the
// exact binary value, as C and Python do); "nan"/"inf"/"-inf" for non-finite values; a result
// that rounds to zero never carries a minus sign.
std::string FormatFixed(double value, int decimals);

// An integer with comma thousands separators: 25557032 -> "25,557,032".
std::string FormatThousands(int64_t value);

// A duration for people: "12.3s", "2m 05s", "13h 02m 03s"; "-" when negative or not finite.
std::string FormatDuration(double seconds);

// A number with a short mantissa in scientific form when small or large: "0.1", "3.2e-4",
// "1.5e+6"; "%.<significant>g" with the exponent's leading zeros dropped.
std::string FormatCompact(double value, int significant = 3);

// The number of Unicode code points in UTF-8 `text`, which is what Python's str.format pads
// to and close enough to the display width for aligning text tables.
int Utf8Length(absl::string_view text);

}  // namespace forge

#endif  // FORGE_LIB_REPORT_FORMAT_H_
