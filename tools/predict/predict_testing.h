// What predict's tests run on (testonly): the tiny training inputs and a freshly initialised
// ResNet-18 checkpoint for their classes whose run evaluated at 32 px (shorter side 36).
#ifndef FORGE_TOOLS_PREDICT_PREDICT_TESTING_H_
#define FORGE_TOOLS_PREDICT_PREDICT_TESTING_H_

#include <string>

#include "absl/status/statusor.h"
#include "testdata/tiny_training_inputs.h"

namespace forge::testdata {

inline constexpr int kTinyClasses = 10;
inline constexpr int kTinyImages = 40;
inline constexpr int kTinyEvalSize = 32;        // the checkpoint's data.eval_size
inline constexpr int kTinyEvalShorterSide = 36;  // floor(32 / its data.eval_crop_ratio 0.875)

struct TinyModel {
  TinyTrainingInputs inputs;
  std::string checkpoint;      // with the inputs' classes and statistics
  std::string synset_mapping;  // "<wnid> name of <wnid>" for each class
};

// Writes the inputs and the model under `dir`.
absl::StatusOr<TinyModel> WriteTinyModel(const std::string& dir);

}  // namespace forge::testdata

#endif  // FORGE_TOOLS_PREDICT_PREDICT_TESTING_H_
