// Mixed-precision autocast for a scope, as Python's `with torch.autocast(device, dtype):`
// (LibTorch has no C++ guard for it).
#ifndef FORGE_LIB_TRAIN_AUTOCAST_H_
#define FORGE_LIB_TRAIN_AUTOCAST_H_

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace forge {

// The autocast a run's precision ("fp32", "fp16", "bf16") means on `device_type`: bf16 anywhere,
// fp16 only on CUDA (the trainer refuses fp16 elsewhere; eval then runs in fp32), none for fp32.
struct AutocastMode {
  bool enabled = false;
  at::ScalarType dtype = at::kFloat;
};
inline AutocastMode AutocastFor(const std::string& precision, c10::DeviceType device_type) {
  if (precision == "bf16") return {true, at::kBFloat16};
  if (precision == "fp16" && device_type == c10::DeviceType::CUDA) return {true, at::kHalf};
  return {};
}

// While alive, eligible ops on `device_type` run in `dtype` (bf16 or fp16). Disabled guards do
// nothing. Restores the previous state on destruction and clears the cast cache when the
// outermost guard ends.
//
//   {
//     AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
//     logits = model->forward(x);
//   }
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device_type, at::ScalarType dtype, bool enabled)
      : device_type_(device_type), enabled_(enabled) {
    if (!enabled_) return;
    previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
    at::autocast::set_autocast_enabled(device_type_, true);
    at::autocast::set_autocast_dtype(device_type_, dtype);
    at::autocast::increment_nesting();
  }
  AutocastGuard(c10::DeviceType device_type, AutocastMode mode)
      : AutocastGuard(device_type, mode.dtype, mode.enabled) {}
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(device_type_, previous_enabled_);
    at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_AUTOCAST_H_
