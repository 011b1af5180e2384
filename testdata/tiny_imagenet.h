// Generator for a tiny, synthetic dataset in the ILSVRC-2012 / Kaggle layout, small enough to
// write in well under a second and learnable by a small CNN in a few CPU minutes. Tests and
// demos use it instead of real ImageNet; see README.md.
//
// Layout under the root directory:
//   train/<wnid>/<wnid>_<n>.JPEG       n = 1..train_per_class (plus pathological files)
//   val/ILSVRC2012_val_%08d.JPEG       flat, numbered 1..N, classes in a shuffled order
//   LOC_val_solution.csv               "ImageId,PredictionString" with one box per image
//   LOC_synset_mapping.txt             "<wnid> <human name>" lines, sorted by WNID
//
// Example (also in tiny_imagenet_test.cc):
//   TinyImageNetOptions options;
//   options.classes = 4;
//   absl::Status status = WriteTinyImageNet(dir, options);
//   PathologicalFiles bad = TinyImageNetPathologicalFiles(options);
//   // dir + "/" + bad.truncated must fail to decode; dir + "/" + bad.cmyk must decode.

#ifndef FORGE_TESTDATA_TINY_IMAGENET_H_
#define FORGE_TESTDATA_TINY_IMAGENET_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace forge::testdata {

struct TinyImageNetOptions {
  // Number of classes: the first `classes` entries of TinyImageNetClasses(), 1..20. The default
  // 10 includes both classes named "crane" and both named "maillot".
  int classes = 10;
  // Regular images per class in train/ (0..100000). Default 40.
  int train_per_class = 40;
  // Regular images per class in val/ (0..100000). Default 10.
  int val_per_class = 10;
  // Each image side is drawn independently from [min_side, max_side] (8..4096), so both
  // orientations occur. Defaults 64 and 112.
  int min_side = 64;
  int max_side = 112;
  // Seed of everything random. Same options give byte-identical files. Default 1.
  uint64_t seed = 1;
  // Adds the files of PathologicalFiles (7 in train/, 2 in val/). Default true.
  bool pathological = true;
};

// Paths, relative to the dataset root, of the deliberately unusual files written when
// TinyImageNetOptions::pathological is set. Every one is named `.JPEG`.
struct PathologicalFiles {
  // In train/<first wnid>/; valid images of that class that a decoder must read.
  std::string cmyk;         // Adobe CMYK JPEG (APP14, 4 components, inverted values).
  std::string grayscale;    // 1-component JPEG.
  std::string progressive;  // Progressive (SOF2) RGB JPEG.
  std::string png_as_jpeg;  // RGB PNG, like ImageNet's n02105855_2933.JPEG.
  // In train/<first wnid>/; not decodable, a decoder must fail (or report) on these.
  std::string truncated;     // A baseline JPEG cut to half its length: libjpeg only warns
                             // ("premature end of data"), so strict decoders treat warnings
                             // as errors.
  std::string empty;         // Zero bytes.
  std::string not_an_image;  // A short HTML error page.
  // In val/, listed in LOC_val_solution.csv like any other validation image.
  std::string val_cmyk;       // Adobe CMYK JPEG of the first class; must decode.
  std::string val_truncated;  // Truncated JPEG of the second class (the first if classes == 1).
};

// Returns OK if `options` are within the documented ranges, else InvalidArgument naming the
// offending field.
absl::Status ValidateTinyImageNetOptions(const TinyImageNetOptions& options);

// Writes the dataset under `root`, creating directories as needed. Files of the same name are
// overwritten; other files already under `root` are left alone. Returns InvalidArgument for bad
// options and an error naming the path if a directory or file cannot be written.
absl::Status WriteTinyImageNet(const std::string& root, const TinyImageNetOptions& options);

// Returns all built-in (WNID, human name) pairs, sorted by WNID: real ILSVRC-2012 synsets,
// including two pairs of classes sharing a human name ("crane", "maillot"). A dataset with
// `classes` = k uses the first k. Class index = position in this list.
const std::vector<std::pair<std::string, std::string>>& TinyImageNetClasses();

// Returns where WriteTinyImageNet(root, options) puts the pathological files when
// options.pathological is set (whatever its value here). The train paths depend only on the
// first WNID; the val paths depend on the options, since they are shuffled in with the other
// validation images. Requires valid options.
PathologicalFiles TinyImageNetPathologicalFiles(const TinyImageNetOptions& options);

// The class of every val/ image WriteTinyImageNet writes for `options` (what
// LOC_val_solution.csv says): {path relative to the root, WNID}, in image-number order. Lets a
// test sort val/ into class folders without running valprep.
std::vector<std::pair<std::string, std::string>> TinyImageNetValLabels(const TinyImageNetOptions& options);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_TINY_IMAGENET_H_
