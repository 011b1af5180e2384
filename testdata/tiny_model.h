// A trained-looking model for the tiny training inputs (testonly): the state of a ResNet-18 run
// on their 10 classes whose validation ran at 32 px (shorter side 36), and a freshly initialised,
// seeded ResNet-18 saved with it as a checkpoint and as bare weights, with a synset mapping.
// What the tests of eval, predict, serve and lib/engine's predictor load.
//
//   absl::StatusOr<testdata::TinyModel> tiny = testdata::WriteTinyModel(testdata::NewScratchDir());
//   LoadTrainedModel(tiny->checkpoint, "", testdata::kTinyClasses);
#ifndef FORGE_TESTDATA_TINY_MODEL_H_
#define FORGE_TESTDATA_TINY_MODEL_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "testdata/tiny_training_inputs.h"

namespace forge::testdata {

inline constexpr int kTinyClasses = 10;
inline constexpr int kTinyImages = 40;
inline constexpr int kTinyEvalSize = 32;         // the run's data.eval_size
inline constexpr int kTinyEvalShorterSide = 36;  // floor(32 / its data.eval_crop_ratio 0.875)

struct TinyModel {
  TinyTrainingInputs inputs;
  std::string checkpoint;      // with the inputs' classes and statistics
  std::string bare_weights;    // the same model, torch::save'd
  std::string synset_mapping;  // "<wnid> name of <wnid>" for each class
};

// The TrainState of a ResNet-18 run on `inputs`: model resnet18, their classes in WNID order,
// their statistics, validation at kTinyEvalSize with crop ratio 0.875.
absl::StatusOr<TrainState> TinyRunState(const TinyTrainingInputs& inputs);

// Writes the inputs and the model under `dir`; the model is seeded, so the same on every call.
absl::StatusOr<TinyModel> WriteTinyModel(const std::string& dir);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_TINY_MODEL_H_
