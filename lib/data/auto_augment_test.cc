// Tests for TrivialAugmentWide and RandAugment: every op against torchvision's _apply_op on PIL
// images (goldens from testdata/make_auto_augment_golden.py, compared byte for byte), the
// magnitude tables against torchvision's _augmentation_space, hand-computed cases, the
// policies' draws, and their place in TrainTransform.
#include "lib/data/auto_augment.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "lib/data/augment.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"
#include "lib/image/golden.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"
#include "testdata/image_writers.h"

namespace forge {
namespace {

using ::forge::image_testing::PixelsMatchGolden;
using Policy = AutoAugmentOptions::Policy;

// The synthetic images of make_auto_augment_golden.py's pattern(), byte for byte.
Image Pattern(const std::string& kind, int width, int height) {
  if (kind == "noise") return image_testing::NoiseImage(width, height);
  Image image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.Row(y) + 3 * x;
      for (int c = 0; c < 3; ++c) {
        if (kind == "gradient") {
          p[c] = static_cast<uint8_t>((40 + 2 * x + 3 * y + 10 * c) % 256);
        } else if (kind == "flat") {
          p[c] = static_cast<uint8_t>(c == 0 ? 7 : c == 1 ? 130 : 250);
        } else if (kind == "spike") {
          p[c] = (x == width - 1 && y == height - 1) ? 1 : 0;
        } else {
          ADD_FAILURE() << "unknown pattern " << kind;
        }
      }
    }
  }
  return image;
}

// The golden lines (comments and empty lines left out), each split on spaces.
std::vector<std::vector<std::string>> ReadGolden() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path = absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                                        workspace != nullptr ? workspace : "resnet_forge",
                                        "/lib/data/testdata/auto_augment_golden.txt");
  std::ifstream file(path);
  std::vector<std::vector<std::string>> lines;
  if (!file) {
    ADD_FAILURE() << "cannot read " << path;
    return lines;
  }
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(absl::StrSplit(line, ' '));
  }
  return lines;
}

template <typename T>
T ParseNumber(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const std::from_chars_result result = std::from_chars(text.data(), end, value);
  EXPECT_TRUE(result.ec == std::errc() && result.ptr == end) << text;
  return value;
}

int ParseInt(const std::string& text) { return ParseNumber<int>(text); }

AugmentOp OpNamed(const std::string& name) {
  for (int i = 0; i < kNumAugmentOps; ++i) {
    if (AugmentOpName(static_cast<AugmentOp>(i)) == name) return static_cast<AugmentOp>(i);
  }
  ADD_FAILURE() << "unknown op " << name;
  return AugmentOp::kIdentity;
}

Image Applied(AugmentOp op, double magnitude, Image image) {
  ApplyAugmentOp(op, magnitude, &image);
  return image;
}

// A one-row image from RGB triples.
Image Row(const std::vector<uint8_t>& rgb) {
  Image image(static_cast<int>(rgb.size() / 3), 1);
  image.pixels = rgb;
  return image;
}

// ---------------------------------------------------------------------------------------
// Goldens

TEST(AutoAugmentGoldenTest, EveryOpEqualsTorchvisionOnPil) {
  std::map<std::tuple<std::string, int, int>, Image> patterns;
  std::map<std::string, int> cases_per_op;
  int failures = 0;
  for (const std::vector<std::string>& line : ReadGolden()) {
    if (line[0] != "op") continue;
    ASSERT_GE(line.size(), 7u);
    const std::string& kind = line[1];
    const int width = ParseInt(line[2]), height = ParseInt(line[3]);
    const AugmentOp op = OpNamed(line[4]);
    const double magnitude = ParseNumber<double>(line[5]);
    auto key = std::make_tuple(kind, width, height);
    if (patterns.count(key) == 0) patterns[key] = Pattern(kind, width, height);
    const Image out = Applied(op, magnitude, patterns[key]);
    ASSERT_EQ(out.width, width);
    ASSERT_EQ(out.height, height);
    const std::string golden = absl::StrJoin(line.begin() + 6, line.end(), " ");
    const ::testing::AssertionResult match = PixelsMatchGolden(out, golden);
    EXPECT_TRUE(match) << line[4] << "(" << line[5] << ") on " << kind << " " << width << "x"
                       << height;
    if (!match && ++failures > 20) FAIL() << "too many failures";
    ++cases_per_op[line[4]];
  }
  // Every op is covered, the ones with magnitudes by many.
  for (int i = 0; i < kNumAugmentOps; ++i) {
    const std::string name(AugmentOpName(static_cast<AugmentOp>(i)));
    EXPECT_GE(cases_per_op[name], IsSignedAugmentOp(static_cast<AugmentOp>(i)) ? 60 : 11) << name;
  }
}

TEST(AutoAugmentGoldenTest, MagnitudeTablesEqualTorchvisions) {
  int tables = 0;
  for (const std::vector<std::string>& line : ReadGolden()) {
    if (line[0] != "table") continue;
    ASSERT_GE(line.size(), 8u);
    const absl::StatusOr<Policy> policy = ParseAutoAugmentPolicy(line[1]);
    ASSERT_TRUE(policy.ok()) << policy.status();
    const int bins = ParseInt(line[2]), width = ParseInt(line[3]), height = ParseInt(line[4]);
    const AugmentOp op = OpNamed(line[5]);
    const std::string where =
        absl::StrCat(line[1], " bins ", bins, " ", width, "x", height, " ", line[5]);
    EXPECT_EQ(IsSignedAugmentOp(op), line[6] == "1") << where;
    const std::vector<double> table = AugmentMagnitudes(*policy, op, bins, width, height);
    if (line[7] == "none") {
      EXPECT_TRUE(table.empty()) << where;
    } else {
      ASSERT_EQ(table.size(), line.size() - 7) << where;
      for (size_t i = 0; i < table.size(); ++i) {
        // torchvision's tables are float32: ours must be that float exactly.
        const float expected = ParseNumber<float>(line[7 + i]);
        EXPECT_EQ(table[i], static_cast<double>(expected)) << where << " [" << i << "]";
      }
    }
    ++tables;
  }
  EXPECT_GE(tables, 80);
}

// ---------------------------------------------------------------------------------------
// Ops by hand

TEST(ApplyAugmentOpTest, TranslateShiftsAndFillsBlack) {
  const Image in = Row({1, 2, 3, 4, 5, 6, 7, 8, 9});
  // int(1.9) = 1 to the right; int(-1.9) = -1 to the left.
  EXPECT_EQ(Applied(AugmentOp::kTranslateX, 1.9, in).pixels,
            (std::vector<uint8_t>{0, 0, 0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Applied(AugmentOp::kTranslateX, -1.9, in).pixels,
            (std::vector<uint8_t>{4, 5, 6, 7, 8, 9, 0, 0, 0}));
  EXPECT_EQ(Applied(AugmentOp::kTranslateX, 0.99, in).pixels, in.pixels);
  EXPECT_EQ(Applied(AugmentOp::kTranslateY, 1, in).pixels, std::vector<uint8_t>(9, 0));
}

TEST(ApplyAugmentOpTest, QuarterTurnsOfASquareAreExact) {
  Image in(2, 2);
  in.pixels = {1, 1, 1, 2, 2, 2,   // 1 2
               3, 3, 3, 4, 4, 4};  // 3 4
  const auto first_channel = [](const Image& image) {
    std::vector<int> v;
    for (size_t i = 0; i < image.pixels.size(); i += 3) v.push_back(image.pixels[i]);
    return v;
  };
  // Counter-clockwise.
  EXPECT_EQ(first_channel(Applied(AugmentOp::kRotate, 90, in)), (std::vector<int>{2, 4, 1, 3}));
  EXPECT_EQ(first_channel(Applied(AugmentOp::kRotate, -270, in)), (std::vector<int>{2, 4, 1, 3}));
  EXPECT_EQ(first_channel(Applied(AugmentOp::kRotate, 180, in)), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(first_channel(Applied(AugmentOp::kRotate, -90, in)), (std::vector<int>{3, 1, 4, 2}));
  EXPECT_EQ(Applied(AugmentOp::kRotate, 360, in).pixels, in.pixels);
  EXPECT_EQ(Applied(AugmentOp::kRotate, -0.0, in).pixels, in.pixels);
}

TEST(ApplyAugmentOpTest, ShearOfOneDoesNotMoveTheFirstRowOrColumn) {
  // About the top-left corner: row 0 stays for ShearX, column 0 for ShearY.
  const Image in = Pattern("noise", 9, 7);
  const Image sheared_x = Applied(AugmentOp::kShearX, 0.3, in);
  EXPECT_TRUE(std::equal(in.Row(0), in.Row(0) + in.RowBytes(), sheared_x.Row(0)));
  const Image sheared_y = Applied(AugmentOp::kShearY, -0.3, in);
  for (int y = 0; y < in.height; ++y) {
    EXPECT_TRUE(std::equal(in.Row(y), in.Row(y) + 3, sheared_y.Row(y))) << "row " << y;
  }
  EXPECT_NE(sheared_x.pixels, in.pixels);
  EXPECT_NE(sheared_y.pixels, in.pixels);
}

TEST(ApplyAugmentOpTest, PosterizeAndSolarize) {
  const Image in = Row({0, 127, 128, 200, 255, 13});
  // The top 2 bits: & 0xC0.
  EXPECT_EQ(Applied(AugmentOp::kPosterize, 2.7, in).pixels,
            (std::vector<uint8_t>{0, 64, 128, 192, 192, 0}));
  EXPECT_EQ(Applied(AugmentOp::kPosterize, 8, in).pixels, in.pixels);
  // v >= 127.5 becomes 255 - v; 13 < 127.5 stays.
  EXPECT_EQ(Applied(AugmentOp::kSolarize, 127.5, in).pixels,
            (std::vector<uint8_t>{0, 127, 127, 55, 0, 13}));
  EXPECT_EQ(Applied(AugmentOp::kSolarize, 0, in).pixels,
            (std::vector<uint8_t>{255, 128, 127, 55, 0, 242}));
  EXPECT_EQ(Applied(AugmentOp::kSolarize, 255.5, in).pixels, in.pixels);
}

TEST(ApplyAugmentOpTest, AutoContrastStretchesEachChannel) {
  // Red 50..150 -> 0..255 (scale 2.55: 100 -> 127.5 -> 127), green 10..10 kept, blue 0..255
  // kept.
  const Image in = Row({50, 10, 0, 100, 10, 77, 150, 10, 255});
  EXPECT_EQ(Applied(AugmentOp::kAutoContrast, 0, in).pixels,
            (std::vector<uint8_t>{0, 10, 0, 127, 10, 77, 255, 10, 255}));
}

TEST(ApplyAugmentOpTest, EqualizeByHand) {
  // 600 samples each of 0, 100 and 200: step = (1800 - 600) // 255 = 4, n starts at 2:
  // lut(0) = 2 // 4 = 0, lut(100) = 602 // 4 = 150, lut(200) = 1202 // 4 = 300, clipped to 255.
  // Then red 10 (x2), 20, 30: counts 2 1 1, step = (4 - 1) // 255 = 0: kept.
  Image in(1800, 1);
  for (int i = 0; i < 1800; ++i) {
    for (int c = 0; c < 3; ++c) in.pixels[3 * i + c] = static_cast<uint8_t>(i / 600 * 100);
  }
  const Image out = Applied(AugmentOp::kEqualize, 0, in);
  EXPECT_EQ(out.pixels[0], 0);
  EXPECT_EQ(out.pixels[3 * 600], 150);
  EXPECT_EQ(out.pixels[3 * 1200], 255);
  const Image kept = Row({10, 1, 1, 10, 2, 2, 20, 3, 3, 30, 4, 4});
  EXPECT_EQ(Applied(AugmentOp::kEqualize, 0, kept).pixels[0], 10);
}

TEST(ApplyAugmentOpTest, SharpnessKeepsTheBorderAndSmallImages) {
  const Image in = Pattern("noise", 6, 5);
  const Image out = Applied(AugmentOp::kSharpness, -1.0, in);  // Factor 0: the smoothed image.
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      const bool border = x == 0 || y == 0 || x == in.width - 1 || y == in.height - 1;
      if (!border) continue;
      EXPECT_TRUE(std::equal(in.Row(y) + 3 * x, in.Row(y) + 3 * x + 3, out.Row(y) + 3 * x));
    }
  }
  // Interior pixel (1, 1), red: (sum of the 3x3 neighbourhood + 4 * centre) / 13, rounded.
  int sum = 0;
  for (int dy = 0; dy < 3; ++dy) {
    for (int dx = 0; dx < 3; ++dx) sum += in.Row(dy)[3 * dx];
  }
  sum += 4 * in.Row(1)[3];
  EXPECT_NEAR(out.Row(1)[3], sum / 13.0, 0.5 + 1e-4);
  const Image small = Pattern("noise", 2, 7);
  EXPECT_EQ(Applied(AugmentOp::kSharpness, 0.9, small).pixels, small.pixels);
}

TEST(ApplyAugmentOpTest, SharpnessSmoothingEqualsPillowsFloatSums) {
  // Factor 0 gives the smoothed image itself. Pillow's ImagingFilter3x3 sums in float, in this
  // order; the library's integer shortcut must agree everywhere, on noise and on blocks of 0
  // and 255 (the extreme sums).
  for (const int blocks : {0, 1}) {
    Image in = Pattern("noise", 120, 90);
    if (blocks == 1) {
      for (size_t i = 0; i < in.pixels.size(); ++i) in.pixels[i] = (i / 7 % 3 == 0) ? 0 : 255;
    }
    const Image out = Applied(AugmentOp::kSharpness, -1.0, in);
    const float k1 = 1.0f / 13.0f, k5 = 5.0f / 13.0f;
    const auto at = [&](int x, int y, int c) { return static_cast<float>(in.Row(y)[3 * x + c]); };
    for (int y = 1; y + 1 < in.height; ++y) {
      for (int x = 1; x + 1 < in.width; ++x) {
        for (int c = 0; c < 3; ++c) {
          float ss = 0.5f;
          ss += at(x - 1, y + 1, c) * k1 + at(x, y + 1, c) * k1 + at(x + 1, y + 1, c) * k1;
          ss += at(x - 1, y, c) * k1 + at(x, y, c) * k5 + at(x + 1, y, c) * k1;
          ss += at(x - 1, y - 1, c) * k1 + at(x, y - 1, c) * k1 + at(x + 1, y - 1, c) * k1;
          const int pillow = static_cast<int>(std::min(std::max(ss, 0.0f), 255.0f));
          ASSERT_EQ(out.Row(y)[3 * x + c], pillow) << x << "," << y << " channel " << c;
        }
      }
    }
  }
}

TEST(ApplyAugmentOpTest, BrightnessColorContrastAreImageEnhance) {
  // Pillow's blends (hand values as in augment_test's JitterColors tests): luma of
  // (100, 150, 200) is 141, of (10, 20, 30) is 18; the contrast mean is 80.
  const Image in = Row({100, 150, 200, 10, 20, 30});
  EXPECT_EQ(Applied(AugmentOp::kBrightness, 0.5, in).pixels,
            (std::vector<uint8_t>{150, 225, 255, 15, 30, 45}));
  EXPECT_EQ(Applied(AugmentOp::kColor, -1.0, in).pixels,
            (std::vector<uint8_t>{141, 141, 141, 18, 18, 18}));
  EXPECT_EQ(Applied(AugmentOp::kContrast, -0.5, in).pixels,
            (std::vector<uint8_t>{90, 115, 140, 45, 50, 55}));
  for (const AugmentOp op : {AugmentOp::kBrightness, AugmentOp::kColor, AugmentOp::kContrast,
                             AugmentOp::kSharpness, AugmentOp::kIdentity}) {
    EXPECT_EQ(Applied(op, 0.0, Pattern("noise", 5, 4)).pixels, Pattern("noise", 5, 4).pixels)
        << AugmentOpName(op);
  }
}

TEST(ApplyAugmentOpTest, EmptyImageIsLeftAlone) {
  for (int i = 0; i < kNumAugmentOps; ++i) {
    Image empty;
    ApplyAugmentOp(static_cast<AugmentOp>(i), i == static_cast<int>(AugmentOp::kPosterize) ? 4 : 1,
                   &empty);
    EXPECT_TRUE(empty.pixels.empty());
  }
}

TEST(ApplyAugmentOpDeathTest, BadMagnitudesAreProgrammerErrors) {
  Image image = Pattern("noise", 4, 4);
  EXPECT_DEATH(ApplyAugmentOp(AugmentOp::kPosterize, 0.5, &image), "bits in \\[1, 8\\]");
  EXPECT_DEATH(ApplyAugmentOp(AugmentOp::kPosterize, 9, &image), "bits in \\[1, 8\\]");
  EXPECT_DEATH(ApplyAugmentOp(AugmentOp::kRotate, NAN, &image), "Rotate magnitude");
}

// ---------------------------------------------------------------------------------------
// Options, names

TEST(AutoAugmentOptionsTest, NamesRoundTripAndBadOnesAreRefused) {
  for (const Policy policy : {Policy::kNone, Policy::kTrivialAugmentWide, Policy::kRandAugment}) {
    const absl::StatusOr<Policy> parsed = ParseAutoAugmentPolicy(AutoAugmentPolicyName(policy));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_EQ(AutoAugmentPolicyName(Policy::kTrivialAugmentWide), "trivial_augment_wide");
  const absl::StatusOr<Policy> bad = ParseAutoAugmentPolicy("TrivialAugmentWide");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("rand_augment"), std::string::npos);
}

TEST(AutoAugmentOptionsTest, Validation) {
  AutoAugmentOptions options;
  options.num_magnitude_bins = 0;  // Ignored for kNone.
  EXPECT_TRUE(ValidateAutoAugmentOptions(options).ok());
  options.policy = Policy::kTrivialAugmentWide;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateAutoAugmentOptions(options)));
  options.num_magnitude_bins = 2;
  EXPECT_TRUE(ValidateAutoAugmentOptions(options).ok());
  options.policy = Policy::kRandAugment;
  options.magnitude = 2;  // Not below 2 bins.
  const absl::Status status = ValidateAutoAugmentOptions(options);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("magnitude"), std::string::npos) << status;
  options.magnitude = 1;
  EXPECT_TRUE(ValidateAutoAugmentOptions(options).ok());
  options.num_ops = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateAutoAugmentOptions(options)));
}

// ---------------------------------------------------------------------------------------
// Draws

TEST(DrawAutoAugmentTest, NoneDrawsNothing) {
  std::mt19937_64 rng(7), untouched(7);
  EXPECT_TRUE(DrawAutoAugment(AutoAugmentOptions(), 224, 224, rng).empty());
  EXPECT_EQ(rng(), untouched());
}

TEST(DrawAutoAugmentTest, TrivialAugmentWideDrawsOpsBinsAndSignsUniformly) {
  AutoAugmentOptions options;
  options.policy = Policy::kTrivialAugmentWide;
  constexpr int kDraws = 28000;
  std::vector<int> per_op(kNumAugmentOps, 0);
  std::map<std::pair<int, double>, int> per_magnitude;
  int negative = 0, signed_draws = 0;
  std::mt19937_64 rng(1);
  for (int i = 0; i < kDraws; ++i) {
    const std::vector<AugmentDraw> draws = DrawAutoAugment(options, 224, 224, rng);
    ASSERT_EQ(draws.size(), 1u);
    const AugmentDraw& d = draws[0];
    ++per_op[static_cast<int>(d.op)];
    const std::vector<double> table = AugmentMagnitudes(options.policy, d.op, 31, 224, 224);
    if (table.empty()) {
      EXPECT_EQ(d.magnitude, 0.0);
      continue;
    }
    ASSERT_NE(std::find(table.begin(), table.end(), std::fabs(d.magnitude)), table.end())
        << AugmentOpName(d.op) << " " << d.magnitude;
    if (IsSignedAugmentOp(d.op)) {
      ++signed_draws;
      negative += std::signbit(d.magnitude);
    } else {
      EXPECT_FALSE(std::signbit(d.magnitude));
    }
    if (d.op == AugmentOp::kRotate) ++per_magnitude[{0, std::fabs(d.magnitude)}];
  }
  // 2000 expected per op: binomial standard deviation 43.
  for (int op = 0; op < kNumAugmentOps; ++op) EXPECT_NEAR(per_op[op], 2000, 200) << op;
  EXPECT_NEAR(negative, signed_draws / 2.0, 4 * std::sqrt(signed_draws / 4.0));
  // Rotate's 31 bins (4.5 degrees apart) all drawn, about 65 times each.
  EXPECT_EQ(per_magnitude.size(), 31u);
}

TEST(DrawAutoAugmentTest, RandAugmentDrawsNumOpsAtTheFixedBin) {
  AutoAugmentOptions options;
  options.policy = Policy::kRandAugment;
  options.num_ops = 3;
  options.magnitude = 30;
  std::mt19937_64 rng(2);
  std::set<AugmentOp> seen;
  for (int i = 0; i < 200; ++i) {
    const std::vector<AugmentDraw> draws = DrawAutoAugment(options, 331, 97, rng);
    ASSERT_EQ(draws.size(), 3u);
    for (const AugmentDraw& d : draws) {
      seen.insert(d.op);
      const std::vector<double> table = AugmentMagnitudes(options.policy, d.op, 31, 331, 97);
      EXPECT_EQ(std::fabs(d.magnitude), table.empty() ? 0.0 : table[30]) << AugmentOpName(d.op);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kNumAugmentOps));
  // The last bin: translations of 150/331 of the side, Posterize to 4 bits, Solarize at 0.
  EXPECT_EQ(AugmentMagnitudes(options.policy, AugmentOp::kTranslateX, 31, 331, 97)[30], 150.0);
  EXPECT_EQ(AugmentMagnitudes(options.policy, AugmentOp::kPosterize, 31, 331, 97)[30], 4.0);
  EXPECT_EQ(AugmentMagnitudes(options.policy, AugmentOp::kSolarize, 31, 331, 97)[30], 0.0);
  options.num_ops = 0;
  EXPECT_TRUE(DrawAutoAugment(options, 10, 10, rng).empty());
}

TEST(AutoAugmentTest, DeterministicForAFixedSeedAndApplyingTheDraws) {
  for (const Policy policy : {Policy::kTrivialAugmentWide, Policy::kRandAugment}) {
    AutoAugmentOptions options;
    options.policy = policy;
    int changed = 0;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      Image a = Pattern("noise", 37, 23), b = a;
      std::mt19937_64 rng_a(seed), rng_b(seed), rng_draws(seed);
      AutoAugment(options, rng_a, &a);
      AutoAugment(options, rng_b, &b);
      ASSERT_EQ(a.pixels, b.pixels) << "seed " << seed;
      EXPECT_EQ(rng_a(), rng_b());
      // The same as the draws applied one by one.
      Image c = Pattern("noise", 37, 23);
      for (const AugmentDraw& d : DrawAutoAugment(options, 37, 23, rng_draws)) {
        ApplyAugmentOp(d.op, d.magnitude, &c);
      }
      ASSERT_EQ(a.pixels, c.pixels) << "seed " << seed;
      changed += a.pixels != Pattern("noise", 37, 23).pixels;
    }
    EXPECT_GT(changed, 25) << AutoAugmentPolicyName(policy);
  }
}

// ---------------------------------------------------------------------------------------
// In TrainTransform

std::string TexturedJpeg(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / width);
      p[1] = static_cast<uint8_t>(60 + y * 150 / height);
      p[2] = static_cast<uint8_t>((x * x / 7 + y * 3) % 256);
    }
  }
  return testdata::EncodeJpeg(rgb.data(), width, height, 90);
}

// torchvision's steps done by hand with our rng: crop, resize, flip, then the policy with the
// rng where the flip left it. Exact for images no larger than the output (full DCT scale).
Image ReferenceTrainTransform(const Image& full, const TrainTransformOptions& options,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  const ImageRegion box = SampleRandomResizedCrop(full.width, full.height, options, rng);
  const bool flip = options.flip && (rng() >> 63) != 0;
  Image crop(box.width, box.height);
  for (int y = 0; y < box.height; ++y) {
    std::copy_n(full.Row(box.y + y) + 3 * box.x, crop.RowBytes(), crop.Row(y));
  }
  Image out(options.size, options.size);
  ResizeInto(crop, options.size, options.size, flip, out.pixels.data());
  AutoAugment(options.auto_augment, rng, &out);
  return out;
}

std::vector<uint8_t> Train(const std::string& jpeg, const TrainTransformOptions& options,
                           uint64_t seed) {
  std::vector<uint8_t> out(static_cast<size_t>(options.size) * options.size * 3);
  const absl::Status status = TrainTransform(jpeg, options, seed, out.data());
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

TEST(TrainTransformAutoAugmentTest, PolicyFollowsCropAndFlipExactly) {
  const std::string jpeg = TexturedJpeg(200, 150);
  const absl::StatusOr<Image> full = DecodeImage(jpeg);
  ASSERT_TRUE(full.ok()) << full.status();
  for (const Policy policy : {Policy::kNone, Policy::kTrivialAugmentWide, Policy::kRandAugment}) {
    TrainTransformOptions options;
    options.auto_augment.policy = policy;
    int differs_from_plain = 0;
    for (uint64_t seed = 0; seed < 30; ++seed) {
      const std::vector<uint8_t> got = Train(jpeg, options, seed);
      ASSERT_EQ(got, ReferenceTrainTransform(*full, options, seed).pixels)
          << AutoAugmentPolicyName(policy) << " seed " << seed;
      differs_from_plain += got != Train(jpeg, TrainTransformOptions(), seed);
    }
    // kNone is the plain transform; the policies change most images (TrivialAugmentWide
    // draws Identity 1 time in 14).
    if (policy == Policy::kNone) {
      EXPECT_EQ(differs_from_plain, 0);
    } else {
      EXPECT_GT(differs_from_plain, 20) << AutoAugmentPolicyName(policy);
    }
  }
}

TEST(TrainTransformAutoAugmentTest, WithColorJitterAfterThePolicy) {
  const std::string jpeg = TexturedJpeg(200, 150);
  TrainTransformOptions options;
  options.auto_augment.policy = Policy::kTrivialAugmentWide;
  options.brightness = 0.4;
  TrainTransformOptions policy_only = options;
  policy_only.brightness = 0;
  int differ = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const std::vector<uint8_t> a = Train(jpeg, options, seed);
    ASSERT_EQ(a, Train(jpeg, options, seed));
    differ += a != Train(jpeg, policy_only, seed);
  }
  EXPECT_GT(differ, 5);
}

TEST(TrainTransformAutoAugmentTest, InvalidOptionsAreInvalidArgument) {
  TrainTransformOptions options;
  options.auto_augment.policy = Policy::kRandAugment;
  options.auto_augment.magnitude = 31;
  std::vector<uint8_t> out(224 * 224 * 3);
  EXPECT_TRUE(
      absl::IsInvalidArgument(TrainTransform(TexturedJpeg(64, 48), options, 0, out.data())));
}

}  // namespace
}  // namespace forge
