// Implementation of the tiny ImageNet generator: plans every file from the options and seed,
// renders each image (a textured, coloured ellipse on a grey-ish background), encodes it and
// writes the ILSVRC/Kaggle layout described in tiny_imagenet.h.
//
// Each class is a distinct combination of hue (5 hues, 72 degrees apart) and texture (stripes,
// checkerboard, concentric rings, dots): class c has hue c % 5 and texture c % 4, so neither
// colour nor texture alone tells all classes apart. Position, size, period, angle, phase,
// brightness, background and noise vary per image.

#include "testdata/tiny_imagenet.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "testdata/image_writers.h"

namespace forge::testdata {
namespace {

constexpr int kJpegQuality = 90;
constexpr int kMaxImagesPerClass = 100000;
// File numbers of pathological files; above kMaxImagesPerClass so they never collide.
constexpr int kPathologicalNumberBase = 900001;

// Deterministic PRNG (splitmix64): same seed, same sequence on every platform, unlike the
// distributions of <random>.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Returns a double uniform in [lo, hi).
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Next() >> 11) * 0x1.0p-53;
  }
  // Returns an int uniform in [lo, hi] (modulo bias is negligible here).
  int UniformInt(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

// Returns a well-mixed seed derived from `seed` and `value`, so that every image has its own
// stream that does not depend on generation order or on other options.
uint64_t MixSeed(uint64_t seed, uint64_t value) {
  return SplitMix64(seed ^ (value * 0xD1B54A32D192ED03ull)).Next();
}

// Streams used for the different random decisions.
enum Stream : uint64_t { kTrainImage = 1, kValImage = 2, kValOrder = 3, kCsvOrder = 4 };

// Returns the seed of image `index` of class `class_index` in `stream`.
uint64_t ImageSeed(uint64_t seed, Stream stream, int class_index, int index) {
  return MixSeed(MixSeed(MixSeed(seed, stream), class_index), index);
}

// How a planned file's bytes are produced.
enum class Encoding {
  kJpeg,
  kProgressiveJpeg,
  kGrayJpeg,
  kCmykJpeg,
  kPngAsJpeg,
  kTruncatedJpeg,
  kEmpty,
  kNotAnImage,
};

// One file to write.
struct PlannedFile {
  std::string path;  // Relative to the root.
  int class_index = 0;
  uint64_t seed = 0;
  Encoding encoding = Encoding::kJpeg;
};

// Every file of a dataset, decided before any pixel is drawn.
struct Plan {
  std::vector<PlannedFile> train;
  std::vector<PlannedFile> val;  // val[i] is ILSVRC2012_val_<i + 1>.
  std::vector<int> csv_order;    // Indices into `val`, in LOC_val_solution.csv row order.
  PathologicalFiles pathological;
};

// The pathological files in train/, in file-number order.
struct TrainPathologicalSpec {
  Encoding encoding;
  std::string PathologicalFiles::*field;
};
const TrainPathologicalSpec kTrainPathological[] = {
    {Encoding::kCmykJpeg, &PathologicalFiles::cmyk},
    {Encoding::kGrayJpeg, &PathologicalFiles::grayscale},
    {Encoding::kProgressiveJpeg, &PathologicalFiles::progressive},
    {Encoding::kPngAsJpeg, &PathologicalFiles::png_as_jpeg},
    {Encoding::kTruncatedJpeg, &PathologicalFiles::truncated},
    {Encoding::kEmpty, &PathologicalFiles::empty},
    {Encoding::kNotAnImage, &PathologicalFiles::not_an_image},
};

const std::string& Wnid(int class_index) { return TinyImageNetClasses()[class_index].first; }

// Returns "train/<wnid>/<wnid>_<number>.JPEG".
std::string TrainPath(int class_index, int number) {
  return absl::StrCat("train/", Wnid(class_index), "/", Wnid(class_index), "_", number, ".JPEG");
}

// Returns "ILSVRC2012_val_%08d" (the ImageId used in the CSV).
std::string ValImageId(int number) { return absl::StrFormat("ILSVRC2012_val_%08d", number); }

// Shuffles `items` in place with Fisher-Yates driven by `rng`.
template <typename T>
void Shuffle(std::vector<T>& items, SplitMix64& rng) {
  for (int i = static_cast<int>(items.size()) - 1; i > 0; --i) {
    std::swap(items[i], items[rng.UniformInt(0, i)]);
  }
}

// Adds the regular and pathological train files to `plan`.
void PlanTrain(const TinyImageNetOptions& options, Plan& plan) {
  for (int c = 0; c < options.classes; ++c) {
    for (int n = 1; n <= options.train_per_class; ++n) {
      plan.train.push_back({TrainPath(c, n), c, ImageSeed(options.seed, kTrainImage, c, n),
                            Encoding::kJpeg});
    }
  }
  if (!options.pathological) return;
  int number = kPathologicalNumberBase;
  for (const TrainPathologicalSpec& spec : kTrainPathological) {
    PlannedFile file{TrainPath(0, number), 0, ImageSeed(options.seed, kTrainImage, 0, number),
                     spec.encoding};
    plan.pathological.*spec.field = file.path;
    plan.train.push_back(std::move(file));
    ++number;
  }
}

// Adds the val files to `plan` in shuffled order, numbers them and decides the CSV row order.
void PlanVal(const TinyImageNetOptions& options, Plan& plan) {
  std::vector<PlannedFile> val;
  for (int c = 0; c < options.classes; ++c) {
    for (int n = 1; n <= options.val_per_class; ++n) {
      val.push_back({"", c, ImageSeed(options.seed, kValImage, c, n), Encoding::kJpeg});
    }
  }
  if (options.pathological) {
    const int second_class = std::min(1, options.classes - 1);
    val.push_back({"", 0, ImageSeed(options.seed, kValImage, 0, kPathologicalNumberBase),
                   Encoding::kCmykJpeg});
    val.push_back({"", second_class,
                   ImageSeed(options.seed, kValImage, second_class, kPathologicalNumberBase + 1),
                   Encoding::kTruncatedJpeg});
  }
  SplitMix64 order_rng(MixSeed(options.seed, kValOrder));
  Shuffle(val, order_rng);
  for (size_t i = 0; i < val.size(); ++i) {
    val[i].path = absl::StrCat("val/", ValImageId(static_cast<int>(i) + 1), ".JPEG");
    if (val[i].encoding == Encoding::kCmykJpeg) plan.pathological.val_cmyk = val[i].path;
    if (val[i].encoding == Encoding::kTruncatedJpeg) plan.pathological.val_truncated = val[i].path;
  }
  plan.val = std::move(val);
  plan.csv_order.resize(plan.val.size());
  for (size_t i = 0; i < plan.val.size(); ++i) plan.csv_order[i] = static_cast<int>(i);
  SplitMix64 csv_rng(MixSeed(options.seed, kCsvOrder));
  Shuffle(plan.csv_order, csv_rng);
}

// Returns the complete plan for valid `options`.
Plan MakePlan(const TinyImageNetOptions& options) {
  Plan plan;
  PlanTrain(options, plan);
  PlanVal(options, plan);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

struct Rgb {
  double r, g, b;  // 0..255
};

// Returns the RGB colour of hue `h` (degrees), saturation `s` and value `v` (both 0..1).
Rgb HsvToRgb(double h, double s, double v) {
  h = std::fmod(h + 360.0, 360.0) / 60.0;
  const int sector = static_cast<int>(h) % 6;
  const double f = h - std::floor(h);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const double table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  return {255 * table[sector][0], 255 * table[sector][1], 255 * table[sector][2]};
}

// Pixel bounding box, inclusive, as in LOC_val_solution.csv: xmin ymin xmax ymax.
struct Box {
  int xmin = 0, ymin = 0, xmax = 0, ymax = 0;
};

struct RenderedImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  Box box;  // Of the textured ellipse.
};

// The class "object": an axis-aligned ellipse.
struct Ellipse {
  double cx, cy, rx, ry;
};

// Texture kinds; class c uses kind c % 4.
enum TextureKind { kStripes = 0, kChecker = 1, kRings = 2, kDots = 3 };

// A texture instance: kind plus the per-image parameters.
struct Texture {
  TextureKind kind;
  double cos_a, sin_a;  // Rotation of stripes, checkerboard and dot grid.
  double period;        // Pixels.
  double phase_u, phase_v;
  double cx, cy;  // Centre of the rings.
};

// Colours of one image: the object alternates between `bright` and `dark` of the class hue.
struct Palette {
  Rgb bright, dark, background;
};

// Returns 1 where the texture shows its bright colour at (x, y), else 0.
int TextureValue(const Texture& t, double x, double y) {
  const double u = (x * t.cos_a + y * t.sin_a) / t.period + t.phase_u;
  const double v = (-x * t.sin_a + y * t.cos_a) / t.period + t.phase_v;
  switch (t.kind) {
    case kStripes:
      return u - std::floor(u) < 0.5;
    case kChecker:
      return (static_cast<int64_t>(std::floor(u)) + static_cast<int64_t>(std::floor(v))) & 1;
    case kRings: {
      const double r = std::sqrt((x - t.cx) * (x - t.cx) + (y - t.cy) * (y - t.cy)) / t.period;
      return r + t.phase_u - std::floor(r + t.phase_u) < 0.5;
    }
    case kDots: {
      const double du = u - std::floor(u) - 0.5, dv = v - std::floor(v) - 0.5;
      return du * du + dv * dv < 0.09;  // Dot radius 0.3 periods.
    }
  }
  return 0;
}

// Draws the object ellipse: 28-48% of each side as radius, fully inside the image.
Ellipse ChooseEllipse(int width, int height, SplitMix64& rng) {
  Ellipse e;
  e.rx = rng.Uniform(0.28, 0.48) * width;
  e.ry = rng.Uniform(0.28, 0.48) * height;
  e.cx = rng.Uniform(e.rx, width - e.rx);
  e.cy = rng.Uniform(e.ry, height - e.ry);
  return e;
}

// Draws the texture of class `class_index`, scaled to the object.
Texture ChooseTexture(int class_index, const Ellipse& object, SplitMix64& rng) {
  Texture t;
  t.kind = static_cast<TextureKind>(class_index % 4);
  const double angle = rng.Uniform(0, M_PI);
  t.cos_a = std::cos(angle);
  t.sin_a = std::sin(angle);
  t.period = std::max(4.0, 2 * std::min(object.rx, object.ry) * rng.Uniform(0.12, 0.25));
  t.phase_u = rng.Uniform(0, 1);
  t.phase_v = rng.Uniform(0, 1);
  t.cx = object.cx + rng.Uniform(-0.3, 0.3) * object.rx;
  t.cy = object.cy + rng.Uniform(-0.3, 0.3) * object.ry;
  return t;
}

// Draws the colours: class hue (c % 5) * 72 degrees with +-8 degrees and brightness jitter; a
// weakly saturated background of any hue.
Palette ChoosePalette(int class_index, SplitMix64& rng) {
  const double hue = (class_index % 5) * 72.0 + rng.Uniform(-8, 8);
  const double brightness = rng.Uniform(0.7, 1.05);
  Palette p;
  p.bright = HsvToRgb(hue, rng.Uniform(0.75, 0.95), std::min(1.0, 0.95 * brightness));
  p.dark = HsvToRgb(hue, rng.Uniform(0.6, 0.8), 0.45 * brightness);
  p.background = HsvToRgb(rng.Uniform(0, 360), rng.Uniform(0, 0.2), rng.Uniform(0.3, 0.8));
  return p;
}

// Returns the inclusive pixel box of `e`, clipped to the image.
Box EllipseBox(const Ellipse& e, int width, int height) {
  Box box;
  box.xmin = std::max(0, static_cast<int>(std::floor(e.cx - e.rx)));
  box.ymin = std::max(0, static_cast<int>(std::floor(e.cy - e.ry)));
  box.xmax = std::min(width - 1, static_cast<int>(std::ceil(e.cx + e.rx)));
  box.ymax = std::min(height - 1, static_cast<int>(std::ceil(e.cy + e.ry)));
  return box;
}

// Returns `value` plus noise in [-8, 8], clamped to a byte.
uint8_t NoisyByte(double value, uint64_t noise_bits) {
  const int v = static_cast<int>(std::lround(value)) + static_cast<int>(noise_bits % 17) - 8;
  return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

// Renders one image of class `class_index` from its own seed.
RenderedImage RenderClassImage(int class_index, uint64_t seed, const TinyImageNetOptions& options) {
  SplitMix64 rng(seed);
  RenderedImage image;
  image.width = rng.UniformInt(options.min_side, options.max_side);
  image.height = rng.UniformInt(options.min_side, options.max_side);
  const Ellipse object = ChooseEllipse(image.width, image.height, rng);
  const Texture texture = ChooseTexture(class_index, object, rng);
  const Palette palette = ChoosePalette(class_index, rng);
  image.box = EllipseBox(object, image.width, image.height);
  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  uint8_t* out = image.rgb.data();
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x, out += 3) {
      const double dx = (x + 0.5 - object.cx) / object.rx, dy = (y + 0.5 - object.cy) / object.ry;
      const Rgb& color = dx * dx + dy * dy > 1 ? palette.background
                         : TextureValue(texture, x + 0.5, y + 0.5) ? palette.bright
                                                                   : palette.dark;
      const uint64_t noise = rng.Next();
      out[0] = NoisyByte(color.r, noise);
      out[1] = NoisyByte(color.g, noise >> 16);
      out[2] = NoisyByte(color.b, noise >> 32);
    }
  }
  return image;
}

// Returns the BT.601 luma of `image`.
std::vector<uint8_t> ToGray(const RenderedImage& image) {
  std::vector<uint8_t> gray(static_cast<size_t>(image.width) * image.height);
  for (size_t i = 0; i < gray.size(); ++i) {
    const uint8_t* p = &image.rgb[3 * i];
    gray[i] = static_cast<uint8_t>((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
  }
  return gray;
}

// Returns the bytes of `image` written as `encoding`.
std::string EncodeFile(const RenderedImage& image, Encoding encoding) {
  const uint8_t* rgb = image.rgb.data();
  const int w = image.width, h = image.height;
  switch (encoding) {
    case Encoding::kJpeg:
      return EncodeJpeg(rgb, w, h, kJpegQuality);
    case Encoding::kProgressiveJpeg:
      return EncodeJpeg(rgb, w, h, kJpegQuality, /*progressive=*/true);
    case Encoding::kGrayJpeg:
      return EncodeGrayJpeg(ToGray(image).data(), w, h, kJpegQuality);
    case Encoding::kCmykJpeg:
      return EncodeCmykJpeg(rgb, w, h, kJpegQuality);
    case Encoding::kPngAsJpeg:
      return EncodePng(rgb, w, h, 3);
    case Encoding::kTruncatedJpeg: {
      const std::string jpeg = EncodeJpeg(rgb, w, h, kJpegQuality);
      return jpeg.substr(0, jpeg.size() / 2);
    }
    case Encoding::kEmpty:
      return "";
    case Encoding::kNotAnImage:
      return "<html><head><title>404 Not Found</title></head>\n"
             "<body><h1>Not Found</h1><p>The requested image was not found.</p></body></html>\n";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Files.

// Writes `bytes` to `path`, replacing it. Errors name the path.
absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path, " for writing"));
  }
  const size_t written = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), file);
  const int write_errno = errno;
  if (std::fclose(file) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot close ", path));
  }
  if (written != bytes.size()) {
    return absl::ErrnoToStatus(write_errno, absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// Creates `path` and its parents. Errors name the path.
absl::Status MakeDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return absl::Status(absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("cannot create directory ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

// Creates root/train/<wnid> for every class and root/val.
absl::Status MakeLayout(const std::string& root, int classes) {
  for (int c = 0; c < classes; ++c) {
    absl::Status status = MakeDirectories(absl::StrCat(root, "/train/", Wnid(c)));
    if (!status.ok()) return status;
  }
  return MakeDirectories(root + "/val");
}

// Renders and writes every file of `files`; stores each file's box in `boxes` if not null.
absl::Status WriteImages(const std::string& root, const std::vector<PlannedFile>& files,
                         const TinyImageNetOptions& options, std::vector<Box>* boxes) {
  for (const PlannedFile& file : files) {
    const RenderedImage image = RenderClassImage(file.class_index, file.seed, options);
    absl::Status status = WriteFile(root + "/" + file.path, EncodeFile(image, file.encoding));
    if (!status.ok()) return status;
    if (boxes != nullptr) boxes->push_back(image.box);
  }
  return absl::OkStatus();
}

// Writes LOC_val_solution.csv: rows in plan.csv_order, "<ImageId>,<wnid> x0 y0 x1 y1 ".
absl::Status WriteValSolution(const std::string& root, const Plan& plan,
                              const std::vector<Box>& boxes) {
  std::string csv = "ImageId,PredictionString\n";
  for (int i : plan.csv_order) {
    const Box& b = boxes[i];
    absl::StrAppend(&csv, ValImageId(i + 1), ",", Wnid(plan.val[i].class_index), " ", b.xmin,
                    " ", b.ymin, " ", b.xmax, " ", b.ymax, " \n");
  }
  return WriteFile(root + "/LOC_val_solution.csv", csv);
}

// Writes LOC_synset_mapping.txt for the first `classes` classes.
absl::Status WriteSynsetMapping(const std::string& root, int classes) {
  std::string text;
  for (int c = 0; c < classes; ++c) {
    absl::StrAppend(&text, TinyImageNetClasses()[c].first, " ", TinyImageNetClasses()[c].second,
                    "\n");
  }
  return WriteFile(root + "/LOC_synset_mapping.txt", text);
}

// Returns InvalidArgument "<field> must be in [lo, hi], got <value>" if out of range.
absl::Status CheckRange(const char* field, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in [", lo, ", ", hi, "], got ", value));
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& TinyImageNetClasses() {
  // Sorted by WNID. The first ten include both "crane"s and both "maillot"s, so the default
  // dataset exercises duplicate human names.
  static const auto* const kClasses = new std::vector<std::pair<std::string, std::string>>{
      {"n01440764", "tench, Tinca tinca"},
      {"n01443537", "goldfish, Carassius auratus"},
      {"n01751748", "sea snake"},
      {"n02012849", "crane"},
      {"n02085620", "Chihuahua"},
      {"n02105855", "Shetland sheepdog, Shetland sheep dog, Shetland"},
      {"n02123045", "tabby, tabby cat"},
      {"n03126707", "crane"},
      {"n03710637", "maillot"},
      {"n03710721", "maillot, tank suit"},
      {"n03792782", "mountain bike, all-terrain bike, off-roader"},
      {"n03888257", "parachute, chute"},
      {"n04037443", "racer, race car, racing car"},
      {"n04254680", "soccer ball"},
      {"n04515003", "upright, upright piano"},
      {"n07747607", "orange"},
      {"n07753592", "banana"},
      {"n07920052", "espresso"},
      {"n09246464", "cliff, drop, drop-off"},
      {"n09472597", "volcano"},
  };
  return *kClasses;
}

absl::Status ValidateTinyImageNetOptions(const TinyImageNetOptions& options) {
  const absl::Status checks[] = {
      CheckRange("classes", options.classes, 1, TinyImageNetClasses().size()),
      CheckRange("train_per_class", options.train_per_class, 0, kMaxImagesPerClass),
      CheckRange("val_per_class", options.val_per_class, 0, kMaxImagesPerClass),
      CheckRange("min_side", options.min_side, 8, 4096),
      CheckRange("max_side", options.max_side, options.min_side, 4096),
  };
  for (const absl::Status& status : checks) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status WriteTinyImageNet(const std::string& root, const TinyImageNetOptions& options) {
  absl::Status status = ValidateTinyImageNetOptions(options);
  if (!status.ok()) return status;
  const Plan plan = MakePlan(options);
  status = MakeLayout(root, options.classes);
  if (!status.ok()) return status;
  status = WriteSynsetMapping(root, options.classes);
  if (!status.ok()) return status;
  status = WriteImages(root, plan.train, options, /*boxes=*/nullptr);
  if (!status.ok()) return status;
  std::vector<Box> val_boxes;
  status = WriteImages(root, plan.val, options, &val_boxes);
  if (!status.ok()) return status;
  return WriteValSolution(root, plan, val_boxes);
}

PathologicalFiles TinyImageNetPathologicalFiles(const TinyImageNetOptions& options) {
  TinyImageNetOptions with_pathological = options;
  with_pathological.pathological = true;
  return MakePlan(with_pathological).pathological;
}

std::vector<std::pair<std::string, std::string>> TinyImageNetValLabels(const TinyImageNetOptions& options) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (const PlannedFile& file : MakePlan(options).val) labels.emplace_back(file.path, Wnid(file.class_index));
  return labels;
}

}  // namespace forge::testdata
