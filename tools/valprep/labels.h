// The ImageNet validation ground truth in its four common shapes: which image belongs to which
// WNID, with every problem that makes a file unusable collected rather than stopping at the first.
#ifndef FORGE_TOOLS_VALPREP_LABELS_H_
#define FORGE_TOOLS_VALPREP_LABELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {
namespace valprep {

enum class LabelsFormat {
  kAuto,       // detected from the first non-empty line
  kKaggleCsv,  // LOC_val_solution.csv: "ImageId,PredictionString", WNID = first token
  kValprepSh,  // soumith's valprep.sh: "mv ILSVRC2012_val_00000001.JPEG n01751748/"
  kWnidLines,  // one WNID per line; line i is image number i
  kDevkit,     // ILSVRC2012_validation_ground_truth.txt: one 1-based ILSVRC2012_ID per line
};

// "auto", "kaggle_csv", "valprep_sh", "wnid_lines" or "devkit"; anything else is InvalidArgument.
absl::StatusOr<LabelsFormat> ParseLabelsFormat(absl::string_view name);
absl::string_view LabelsFormatName(LabelsFormat format);

// Why `name` cannot be used as one file or folder name inside a directory (empty, "." or "..",
// contains '/', a NUL or another control character, longer than 255 bytes), or "" if it can.
std::string UnsafeComponentReason(absl::string_view name);

// The file name of validation image `number` (1-based): "ILSVRC2012_val_00000001.JPEG".
std::string ValImageName(int64_t number);

// The format of a labels file, decided by its first non-empty line: the Kaggle header, a line
// starting with "mv " or "mkdir " (or a "#" comment) for valprep.sh, a lone WNID, a lone integer.
// InvalidArgument naming `path` and the line otherwise, or if there is no non-empty line.
absl::StatusOr<LabelsFormat> DetectLabelsFormat(absl::string_view contents,
                                                absl::string_view path);

struct LabeledImage {
  std::string image;  // file name in the flat folder, e.g. "ILSVRC2012_val_00000001.JPEG"
  std::string wnid;   // class folder name
  int64_t line = 0;   // 1-based line of the labels file that says so
};

struct GroundTruth {
  LabelsFormat format = LabelsFormat::kAuto;  // the format used (detected if kAuto was asked)
  std::vector<LabeledImage> images;           // in file order, each image once
  // "path:line: problem" for every problem that makes the file unusable; empty when usable.
  std::vector<std::string> errors;
  // Problems that do not change the outcome, e.g. an image listed twice with the same WNID.
  std::vector<std::string> warnings;
};

// Parses a labels file's `contents` (`path` only names it in messages). Tolerates a UTF-8 BOM,
// CRLF line ends, trailing whitespace and blank lines (in the position-based formats wnid_lines
// and devkit only at the end, since line i names image i). `synsets` maps ILSVRC2012_ID k to
// synsets[k-1] and is needed for kDevkit only; without it a devkit file is an error explaining
// what to pass. Checks every entry: safe image and class names, an image listed twice with
// different WNIDs (same WNID twice: a warning, kept once), IDs out of range. Never fails as a
// call: everything found goes to `errors`.
GroundTruth ParseGroundTruth(absl::string_view contents, absl::string_view path,
                             LabelsFormat format, const std::vector<std::string>* synsets);

// The devkit's ID→WNID table: the k-th non-empty line names the WNID of ILSVRC2012_ID k, either
// alone ("n02119789") or as the line's first WNID-looking token ("1 n02119789 kit fox").
// InvalidArgument naming `path`, the line and the problem for a line without a WNID, a WNID
// named twice, or an empty file.
absl::StatusOr<std::vector<std::string>> ParseSynsets(absl::string_view contents,
                                                      absl::string_view path);

}  // namespace valprep
}  // namespace forge

#endif  // FORGE_TOOLS_VALPREP_LABELS_H_
