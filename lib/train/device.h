// The device a tool computes on, from its --device flag.
#ifndef FORGE_LIB_TRAIN_DEVICE_H_
#define FORGE_LIB_TRAIN_DEVICE_H_

#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace forge {

// "cpu", "cuda", "cuda:N"; empty: the first CUDA device when there is one, else the CPU.
// InvalidArgument for a name LibTorch does not know, FailedPrecondition for CUDA on a machine
// without it; messages quote the flag.
absl::StatusOr<torch::Device> ParseDevice(const std::string& name);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_DEVICE_H_
