#include "lib/engine/device_batch.h"

#include <memory>

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace forge {
namespace {

Batch MakeBatch(BatchBufferPool& pool, uint8_t value, bool pinned) {
  Batch batch;
  batch.images = pool.Get({8, 4, 4, 3}, pinned);
  batch.images.fill_(value);
  batch.labels = torch::arange(8, torch::kInt64);
  return batch;
}

TEST(DeviceBatchCopierTest, OnTheCpuTheTensorsPassThrough) {
  auto pool = std::make_shared<BatchBufferPool>();
  const Batch batch = MakeBatch(*pool, 7, /*pinned=*/false);
  DeviceBatchCopier copier(torch::kCPU);
  const DeviceBatch on_device = copier.Copy(batch);
  EXPECT_EQ(on_device.images.data_ptr(), batch.images.data_ptr());
  EXPECT_TRUE(torch::equal(on_device.labels, batch.labels));
  EXPECT_EQ(copier.in_flight(), 0u);
}

// On CUDA: the copy arrives, and the loader's pinned buffer goes back to its pool only once the
// copy has completed, never while it may still be read.
TEST(DeviceBatchCopierTest, OnCudaHoldsTheHostBufferUntilTheCopyCompleted) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  auto pool = std::make_shared<BatchBufferPool>();
  DeviceBatchCopier copier(torch::kCUDA);
  DeviceBatch first;
  {
    const Batch batch = MakeBatch(*pool, 7, /*pinned=*/true);
    first = copier.Copy(batch);
  }  // the loader lets go of the batch
  EXPECT_EQ(pool->free_buffers(), 0u) << "held by the copier";
  torch::cuda::synchronize();
  DeviceBatch second;
  {
    const Batch batch = MakeBatch(*pool, 9, /*pinned=*/true);  // a new buffer: the first is held
    second = copier.Copy(batch);  // releases the first copy's buffers, which completed
  }
  EXPECT_GE(pool->free_buffers(), 1u);
  EXPECT_TRUE(torch::equal(first.images.cpu(), torch::full({8, 4, 4, 3}, 7, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(second.images.cpu(), torch::full({8, 4, 4, 3}, 9, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(second.labels.cpu(), torch::arange(8, torch::kInt64)));
  EXPECT_TRUE(first.images.is_cuda());
  for (int i = 0; i < 10; ++i) {
    const Batch batch = MakeBatch(*pool, static_cast<uint8_t>(i), /*pinned=*/true);
    copier.Copy(batch);
    EXPECT_LE(copier.in_flight(), DeviceBatchCopier::kMaxInFlight + 1);
  }
}

}  // namespace
}  // namespace forge
