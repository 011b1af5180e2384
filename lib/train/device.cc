#include "lib/train/device.h"

#include <torch/cuda.h>

#include "absl/strings/str_cat.h"

namespace forge {

absl::StatusOr<torch::Device> ParseDevice(const std::string& name) {
  if (name.empty()) return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat("--device=", name, " but no CUDA device is available"));
    }
    return device;
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError(absl::StrCat("--device=", name, " is not a device (cpu, cuda, cuda:N)"));
  }
}

}  // namespace forge
