// Fuzzes every ground-truth parser of valprep (Kaggle CSV, valprep.sh, WNID lines, devkit IDs,
// with format detection) and the devkit's synset table. The input's last byte picks the format;
// the rest is the synset table (up to the first "\\" followed by another character, FuzzedDataProvider's
// ConsumeRandomLengthString) and then the labels file. Property: a file parsed without errors names
// each image once, with image and class names that are safe as single path components.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "tools/valprep/labels.h"

namespace {

constexpr forge::valprep::LabelsFormat kFormats[] = {
    forge::valprep::LabelsFormat::kAuto, forge::valprep::LabelsFormat::kKaggleCsv,
    forge::valprep::LabelsFormat::kValprepSh, forge::valprep::LabelsFormat::kWnidLines,
    forge::valprep::LabelsFormat::kDevkit};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const forge::valprep::LabelsFormat format = input.PickValueInArray(kFormats);
  const std::string synsets_text = input.ConsumeRandomLengthString();
  const std::string contents = input.ConsumeRemainingBytesAsString();

  absl::StatusOr<std::vector<std::string>> synsets = forge::valprep::ParseSynsets(synsets_text, "synsets.txt");
  (void)forge::valprep::DetectLabelsFormat(contents, "labels");
  forge::valprep::GroundTruth truth =
      forge::valprep::ParseGroundTruth(contents, "labels", format, synsets.ok() ? &*synsets : nullptr);
  if (!truth.errors.empty()) return 0;
  std::set<std::string> images;
  for (const forge::valprep::LabeledImage& image : truth.images) {
    CHECK_EQ(forge::valprep::UnsafeComponentReason(image.image), "") << image.image;
    CHECK_EQ(forge::valprep::UnsafeComponentReason(image.wnid), "") << image.wnid;
    CHECK(images.insert(image.image).second) << image.image << " twice";
  }
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  // The synset table, then a backslash and another character: where ConsumeRandomLengthString stops.
  const std::string synsets = "n01440764\nn01443537\n1 n02119789 kit fox\n\\n";
  const std::string files[] = {
      "",
      "ImageId,PredictionString\nILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 150 90\n",
      "mkdir -p n01440764\nmv ILSVRC2012_val_00000293.JPEG n01440764/\n",
      "n01751748\nn09193705\n\n",
      "3\n1\n2\n",
  };
  std::vector<std::string> seeds;
  for (int format = 0; format < 5; ++format) {
    seeds.push_back(synsets + files[format == 0 ? 2 : format] + static_cast<char>(format));
  }
  return seeds;
}
