// Loader batches onto the training device without stopping the host. On CUDA each copy runs on a
// side stream, so the next batch's copy overlaps the current step's kernels; the compute stream
// waits for the copy on the device (an event), never the host. The loader's batch buffers are
// pinned and reused (BatchBufferPool): a buffer handed back while a copy from it is in flight
// would be overwritten mid-copy, so the copier keeps each batch's host tensors until its copy has
// completed. On the CPU the tensors pass through untouched.
//
//   DeviceBatchCopier copier(device);
//   while (loader.Next(&batch)) {
//     DeviceBatch on_device = copier.Copy(batch);
//     step.Accumulate(normalizer(on_device.images), on_device.labels);
//   }
#ifndef FORGE_LIB_ENGINE_DEVICE_BATCH_H_
#define FORGE_LIB_ENGINE_DEVICE_BATCH_H_

#include <deque>
#include <optional>

#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <torch/torch.h>

#include "lib/data/loader.h"

namespace forge {

struct DeviceBatch {
  torch::Tensor images;  // uint8, as the loader made them, on the device
  torch::Tensor labels;  // int64, on the device
};

class DeviceBatchCopier {
 public:
  explicit DeviceBatchCopier(torch::Device device);
  // Waits for the copies still in flight, so that no buffer is released mid-copy.
  ~DeviceBatchCopier();
  DeviceBatchCopier(const DeviceBatchCopier&) = delete;
  DeviceBatchCopier& operator=(const DeviceBatchCopier&) = delete;

  // `batch`'s images and labels on the device, ordered before whatever the current stream runs
  // next. Does not wait for the copy on the host.
  DeviceBatch Copy(const Batch& batch);

  // Copies whose host buffers are still held (at most kMaxInFlight).
  size_t in_flight() const { return in_flight_.size(); }

  static constexpr size_t kMaxInFlight = 4;

 private:
  struct InFlight {
    torch::Tensor images, labels;  // the host tensors copied from
    c10::Event done;
  };
  // Releases the host tensors of completed copies; waits for the oldest beyond kMaxInFlight.
  void ReleaseCompleted();

  const torch::Device device_;
  std::optional<c10::Stream> copy_stream_;  // CUDA only
  std::deque<InFlight> in_flight_;
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_DEVICE_BATCH_H_
