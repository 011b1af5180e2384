#include "lib/train/device.h"

#include <sys/resource.h>

#include <algorithm>

#include <c10/core/CachingDeviceAllocator.h>
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

int64_t PeakMemoryBytes(const torch::Device& device) {
  if (device.is_cuda()) {
    const c10::CachingDeviceAllocator::DeviceStats stats =
        c10::getDeviceAllocator(c10::kCUDA)->getDeviceStats(std::max<c10::DeviceIndex>(device.index(), 0));
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

void ResetPeakMemory(const torch::Device& device) {
  if (device.is_cuda()) {
    c10::getDeviceAllocator(c10::kCUDA)->resetPeakStats(std::max<c10::DeviceIndex>(device.index(), 0));
  }
}

}  // namespace forge
