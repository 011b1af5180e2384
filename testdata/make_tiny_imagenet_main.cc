// make_tiny_imagenet: writes the synthetic tiny ImageNet-layout dataset of tiny_imagenet.h.
//
//   bazel run //testdata:make_tiny_imagenet -- --out_dir=/tmp/tiny
//
// Prints a one-line summary to stdout. Exit codes: 0 success, 1 write failure, 2 bad usage.

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "testdata/tiny_imagenet.h"

DEFINE_string(out_dir, "", "Directory to write the dataset into (created if needed). Required.");
DEFINE_int32(classes, 10, "Number of classes (1..20).");
DEFINE_int32(train_per_class, 40, "Regular train images per class.");
DEFINE_int32(val_per_class, 10, "Regular val images per class.");
DEFINE_int32(min_side, 64, "Smallest image side in pixels.");
DEFINE_int32(max_side, 112, "Largest image side in pixels.");
DEFINE_uint64(seed, 1, "Seed; the same flags give byte-identical files.");
DEFINE_bool(pathological, true, "Also write the CMYK, grayscale, progressive, PNG-as-JPEG, "
            "truncated, empty and not-an-image files.");

namespace {

// Returns --out_dir, resolved against the directory `bazel run` was started from.
std::string OutDir() {
  const char* working_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (FLAGS_out_dir.empty() || FLAGS_out_dir[0] == '/' || working_dir == nullptr) {
    return FLAGS_out_dir;
  }
  return std::string(working_dir) + "/" + FLAGS_out_dir;
}

// Returns the options given by the flags.
forge::testdata::TinyImageNetOptions OptionsFromFlags() {
  forge::testdata::TinyImageNetOptions options;
  options.classes = FLAGS_classes;
  options.train_per_class = FLAGS_train_per_class;
  options.val_per_class = FLAGS_val_per_class;
  options.min_side = FLAGS_min_side;
  options.max_side = FLAGS_max_side;
  options.seed = FLAGS_seed;
  options.pathological = FLAGS_pathological;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("Writes a tiny synthetic ImageNet-layout dataset. Usage:\n"
                          "  make_tiny_imagenet --out_dir=DIR [--classes=N ...]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc > 1) {
    std::cerr << "make_tiny_imagenet: unexpected argument " << argv[1] << "\n";
    return 2;
  }
  if (FLAGS_out_dir.empty()) {
    std::cerr << "make_tiny_imagenet: --out_dir is required\n";
    return 2;
  }
  const forge::testdata::TinyImageNetOptions options = OptionsFromFlags();
  if (absl::Status status = forge::testdata::ValidateTinyImageNetOptions(options); !status.ok()) {
    std::cerr << "make_tiny_imagenet: bad flag: " << status.message() << "\n";
    return 2;
  }
  const std::string out_dir = OutDir();
  const absl::Time start = absl::Now();
  if (absl::Status status = forge::testdata::WriteTinyImageNet(out_dir, options); !status.ok()) {
    std::cerr << "make_tiny_imagenet: " << status << "\n";
    return 1;
  }
  const int extra_train = options.pathological ? 7 : 0, extra_val = options.pathological ? 2 : 0;
  std::cout << absl::StrFormat(
      "make_tiny_imagenet: out_dir=%s classes=%d train=%d val=%d seed=%d seconds=%.3f\n", out_dir,
      options.classes, options.classes * options.train_per_class + extra_train,
      options.classes * options.val_per_class + extra_val, options.seed,
      absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}
