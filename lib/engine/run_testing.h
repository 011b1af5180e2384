// Test helpers for comparing training runs (testonly).
#ifndef FORGE_LIB_ENGINE_RUN_TESTING_H_
#define FORGE_LIB_ENGINE_RUN_TESTING_H_

#include <string>

#include "proto/train_log.pb.h"

namespace forge::train_testing {

// Expects consecutive steps in `log` and epochs in order: nothing logged twice.
void ExpectEachStepLoggedOnce(const TrainLog& log);

// Expects the run in `run_dir` to be the run in `reference` (both ResNet-18 on 10 classes):
// the weights and buffers of checkpoints/last.ckpt bit for bit, the same loss and LR at every
// step of train_log.pb and the same epoch metrics, each step logged once, and each TensorBoard
// (tag, step) once.
void ExpectSameRun(const std::string& reference, const std::string& run_dir);

}  // namespace forge::train_testing

#endif  // FORGE_LIB_ENGINE_RUN_TESTING_H_
