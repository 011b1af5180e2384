#include "lib/engine/device_batch.h"

#include <utility>

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

namespace forge {

DeviceBatchCopier::DeviceBatchCopier(torch::Device device) : device_(device) {
  if (device_.is_cuda()) {
    const c10::impl::VirtualGuardImpl guard(device_.type());
    copy_stream_ = guard.getStreamFromGlobalPool(device_);
  }
}

DeviceBatchCopier::~DeviceBatchCopier() {
  for (const InFlight& copy : in_flight_) copy.done.synchronize();
}

void DeviceBatchCopier::ReleaseCompleted() {
  while (!in_flight_.empty() && (in_flight_.size() > kMaxInFlight || in_flight_.front().done.query())) {
    in_flight_.front().done.synchronize();
    in_flight_.pop_front();
  }
}

DeviceBatch DeviceBatchCopier::Copy(const Batch& batch) {
  if (!device_.is_cuda()) return {batch.images.to(device_), batch.labels.to(device_)};
  ReleaseCompleted();
  const c10::impl::VirtualGuardImpl guard(device_.type());
  const c10::Stream compute = guard.getStream(device_);
  // Labels come from pageable memory; a pinned copy lets them travel asynchronously too.
  torch::Tensor labels = batch.labels.is_pinned() ? batch.labels : batch.labels.pin_memory();
  InFlight copy{batch.images, labels, c10::Event(device_.type())};
  DeviceBatch on_device;
  {
    // Allocated and written on the side stream, so the copy need not wait for the kernels the
    // compute stream has queued (the current step's): it overlaps them.
    c10::StreamGuard on_copy_stream(*copy_stream_);
    on_device.images = torch::empty(batch.images.sizes(), batch.images.options().device(device_).pinned_memory(false));
    on_device.labels = torch::empty(labels.sizes(), labels.options().device(device_).pinned_memory(false));
    on_device.images.copy_(batch.images, /*non_blocking=*/true);
    on_device.labels.copy_(labels, /*non_blocking=*/true);
    copy.done.record(*copy_stream_);
  }
  // The compute stream waits for the copy on the device; and since it uses the tensors, their
  // memory is not handed to the side stream again before the compute stream is done with them.
  copy.done.block(compute);
  on_device.images.record_stream(compute);
  on_device.labels.record_stream(compute);
  in_flight_.push_back(std::move(copy));
  return on_device;
}

}  // namespace forge
