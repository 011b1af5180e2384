// Test helpers for comparing training runs (testonly).
#ifndef FORGE_LIB_ENGINE_RUN_TESTING_H_
#define FORGE_LIB_ENGINE_RUN_TESTING_H_

#include <sys/types.h>

#include <string>

#include "proto/train_log.pb.h"

namespace forge::train_testing {

// Expects consecutive steps in `log` and epochs in order: nothing logged twice.
void ExpectEachStepLoggedOnce(const TrainLog& log);

// Expects the run in `run_dir` to be the run in `reference` (both ResNet-18 on 10 classes):
// the weights and buffers of checkpoints/last.ckpt (and its EMA's) bit for bit, the same loss and LR at every
// step of train_log.pb and the same epoch metrics, each step logged once, and each TensorBoard
// (tag, step) once.
void ExpectSameRun(const std::string& reference, const std::string& run_dir);

// How far apart the parameters and floating-point buffers of the checkpoints/last.ckpt of two
// runs are (ResNet-18 on 10 classes): |a - b| / |a| over all of them as one vector (L2 norms),
// and in *worst (when not null) the name of the tensor that contributes most to |a - b|.
double RelativeWeightDifference(const std::string& run_dir, const std::string& other_run_dir,
                                std::string* worst = nullptr);

// Waits until the train process `pid` has written a checkpoint of `run_dir` (it is training;
// true), or has exited (false, its code as testdata::WaitForProcess gives it in *exit_code).
// Fails the test and kills it after 2 minutes without either.
bool WaitUntilTraining(pid_t pid, const std::string& run_dir, int* exit_code);

}  // namespace forge::train_testing

#endif  // FORGE_LIB_ENGINE_RUN_TESTING_H_
