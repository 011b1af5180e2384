// The device a tool computes on, from its --device flag, and how much memory it used.
#ifndef FORGE_LIB_TRAIN_DEVICE_H_
#define FORGE_LIB_TRAIN_DEVICE_H_

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace forge {

// "cpu", "cuda", "cuda:N"; empty: the first CUDA device when there is one, else the CPU.
// InvalidArgument for a name LibTorch does not know, FailedPrecondition for CUDA on a machine
// without it; messages quote the flag.
absl::StatusOr<torch::Device> ParseDevice(const std::string& name);

// On CUDA, the most memory tensors of `device` held since the last ResetPeakMemory (what
// torch.cuda.max_memory_allocated reports); on the CPU, the process's peak resident set.
int64_t PeakMemoryBytes(const torch::Device& device);

// Starts a new peak for PeakMemoryBytes on CUDA; nothing on the CPU (the resident peak of a
// process cannot be reset).
void ResetPeakMemory(const torch::Device& device);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_DEVICE_H_
