// What the training tools' tests train on: the tiny ImageNet with 10 classes x 4 images of
// 40-56 px and no pathological files (train/ doubles as validation), and fixed channel
// statistics (mean 0.45, std 0.25 for every channel).
//
//   absl::StatusOr<TinyTrainingInputs> inputs = WriteTinyTrainingInputs(TempDir() + "/inputs");
//   options.train_data = inputs->train;
//   options.stats = inputs->stats;
#ifndef FORGE_TESTDATA_TINY_TRAINING_INPUTS_H_
#define FORGE_TESTDATA_TINY_TRAINING_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::testdata {

struct TinyTrainingInputs {
  std::string train;  // <dir>/data/train, an ImageFolder
  std::string stats;  // <dir>/stats.txtpb, a ChannelStats
};

// Replaces `dir` with the inputs.
absl::StatusOr<TinyTrainingInputs> WriteTinyTrainingInputs(const std::string& dir);

// For tests that run the tools: a new scratch directory (NewScratchDir) holding the inputs and
// `recipe` as recipe.txtpb. Fails the current test when they cannot be written.
std::string ScratchTrainingInputs(const std::string& recipe);

// The flags that make train use the inputs in `inputs_dir` (ScratchTrainingInputs), train/
// doubling as validation, and `run_dir`, on the CPU.
std::vector<std::string> TrainFlags(const std::string& inputs_dir, const std::string& run_dir);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_TINY_TRAINING_INPUTS_H_
