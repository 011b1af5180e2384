#include "lib/data/loader.h"

#include <atomic>
#include <chrono>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/data/augment.h"
#include "testdata/image_writers.h"

namespace forge {
namespace {

// Samples whose "encoded image" is the text "img <i>" ("bad" or "crc" for failing ones).
class FakeDataset : public ImageDataset {
 public:
  explicit FakeDataset(size_t size) : size_(size) {
    for (int c = 0; c < 3; ++c) classes_.emplace_back();
  }
  std::set<size_t> undecodable, corrupt;

  const std::string& source() const override { return source_; }
  size_t size() const override { return size_; }
  const std::vector<ClassInfo>& classes() const override { return classes_; }
  std::string Describe(size_t i) const override { return absl::StrCat("fake@", i); }
  absl::StatusOr<EncodedSample> Read(size_t i) const override {
    if (corrupt.count(i)) return absl::DataLossError(absl::StrCat("fake@", i, ": payload CRC mismatch"));
    return EncodedSample{undecodable.count(i) ? "bad" : absl::StrCat("img ", i), static_cast<int>(i % 3)};
  }

 private:
  size_t size_;
  std::string source_ = "fake";
  std::vector<ClassInfo> classes_;
};

// Writes the sample number into the first pixel bytes and seed-derived bytes after it.
absl::Status FakeTransform(absl::string_view encoded, uint64_t seed, uint8_t* out) {
  int index;
  if (!absl::ConsumePrefix(&encoded, "img ") || !absl::SimpleAtoi(encoded, &index)) {
    return absl::InvalidArgumentError("not an image");
  }
  for (int p = 0; p < 4 * 4 * 3; ++p) out[p] = static_cast<uint8_t>((seed >> (p % 8)) + p);
  out[0] = static_cast<uint8_t>(index);
  return absl::OkStatus();
}

LoaderOptions Options(int threads, int prefetch, int batch_size = 5) {
  LoaderOptions options;
  options.sampler.seed = 11;
  options.sampler.batch_size = batch_size;
  options.height = 4;
  options.width = 4;
  options.transform = FakeTransform;
  options.threads = threads;
  options.prefetch_batches = prefetch;
  return options;
}

std::vector<Batch> LoadAll(const ImageDataset& dataset, const LoaderOptions& options, int64_t epoch,
                           int64_t start = 0) {
  Loader loader(dataset, options, epoch, start);
  std::vector<Batch> batches;
  Batch batch;
  while (loader.Next(&batch)) batches.push_back(batch);
  EXPECT_TRUE(loader.status().ok()) << loader.status();
  return batches;
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels)) << "batch " << i;
  }
}

// Two ranks' batch b together are one process's batch b, pixel for pixel (the same samples with
// the same per-sample randomness), in every epoch.
TEST(LoaderTest, RanksTogetherMakeOneProcesssBatches) {
  FakeDataset dataset(40);
  for (int64_t epoch = 1; epoch <= 3; ++epoch) {
    LoaderOptions whole = Options(2, 2, /*batch_size=*/8);
    whole.sampler.drop_last_batch = true;
    const std::vector<Batch> one = LoadAll(dataset, whole, epoch);
    ASSERT_EQ(one.size(), 5u);
    std::vector<std::vector<Batch>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      LoaderOptions share = Options(1, 2, /*batch_size=*/4);
      share.sampler.drop_last_batch = true;
      share.sampler.rank = rank;
      share.sampler.world_size = 2;
      share.sampler.uneven = SamplerOptions::Uneven::kDrop;
      ranks.push_back(LoadAll(dataset, share, epoch));
      ASSERT_EQ(ranks.back().size(), 5u);
    }
    for (size_t b = 0; b < one.size(); ++b) {
      for (int64_t k = 0; k < 8; ++k) {
        // Global position 8b + k is rank k % 2's sample k / 2 of its batch b.
        const Batch& mine = ranks[k % 2][b];
        EXPECT_TRUE(torch::equal(mine.images[k / 2], one[b].images[k])) << "epoch " << epoch << " batch " << b;
        EXPECT_EQ(mine.samples[k / 2], one[b].samples[k]);
      }
    }
  }
}

TEST(LoaderTest, BatchesFollowTheSamplerWithLabels) {
  FakeDataset dataset(23);
  const LoaderOptions options = Options(2, 3);
  std::vector<Batch> batches = LoadAll(dataset, options, 4);
  EpochSampler sampler(23, options.sampler, 4);
  ASSERT_EQ(batches.size(), 5u);
  for (size_t b = 0; b < batches.size(); ++b) {
    EXPECT_EQ(batches[b].index, static_cast<int64_t>(b));
    std::vector<size_t> expected = sampler.Batch(b);
    ASSERT_EQ(batches[b].images.sizes(), (std::vector<int64_t>{static_cast<int64_t>(expected.size()), 4, 4, 3}));
    EXPECT_EQ(batches[b].images.dtype(), torch::kUInt8);
    EXPECT_EQ(batches[b].labels.dtype(), torch::kInt64);
    EXPECT_EQ(batches[b].samples, expected);
    for (size_t k = 0; k < expected.size(); ++k) {
      EXPECT_EQ(batches[b].images[k][0][0][0].item<int>(), static_cast<int>(expected[k]));
      EXPECT_EQ(batches[b].labels[k].item<int64_t>(), static_cast<int64_t>(expected[k] % 3));
    }
  }
}

TEST(LoaderTest, SameBatchesWhateverThreadsAndPrefetch) {
  FakeDataset dataset(57);
  const std::vector<Batch> reference = LoadAll(dataset, Options(1, 1), 2);
  for (int threads : {2, 4}) {
    for (int prefetch : {1, 2, 8}) ExpectSameBatches(LoadAll(dataset, Options(threads, prefetch), 2), reference);
  }
  // Another epoch draws other samples and other randomness.
  EXPECT_FALSE(torch::equal(LoadAll(dataset, Options(2, 2), 3)[0].images, reference[0].images));
}

// The batches are byte-identical whatever the threads and the prefetch depth, also with
// skipped samples (which move the kept ones down) and in the N x 3 x H x W layout.
TEST(LoaderTest, IdenticalBatchesForThreads125AndPrefetch1And4) {
  FakeDataset dataset(47);
  dataset.undecodable = {4, 20, 21, 46};
  for (const bool nchw : {false, true}) {
    LoaderOptions reference_options = Options(1, 1);
    reference_options.nchw = nchw;
    const std::vector<Batch> reference = LoadAll(dataset, reference_options, 5);
    ASSERT_EQ(reference.size(), 10u);
    for (int threads : {1, 2, 5}) {
      for (int prefetch : {1, 4}) {
        LoaderOptions options = Options(threads, prefetch);
        options.nchw = nchw;
        SCOPED_TRACE(absl::StrCat(threads, " threads, prefetch ", prefetch, nchw ? ", nchw" : ""));
        const std::vector<Batch> batches = LoadAll(dataset, options, 5);
        ExpectSameBatches(batches, reference);
        for (size_t b = 0; b < batches.size(); ++b) {
          EXPECT_EQ(batches[b].samples, reference[b].samples);
          EXPECT_EQ(batches[b].skipped, reference[b].skipped);
        }
      }
    }
  }
}

// Even with one batch prepared ahead, the workers share out its samples: several decode at
// once. (A behaviour test: the transform counts the calls in progress, no timing asserted.)
TEST(LoaderTest, SeveralSamplesAreMadeAtOnceWithPrefetchOne) {
  FakeDataset dataset(64);
  std::atomic<int> running{0}, most{0};
  LoaderOptions options = Options(4, 1, /*batch_size=*/16);
  options.transform = [&](absl::string_view encoded, uint64_t seed, uint8_t* out) {
    const int now = running.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    running.fetch_sub(1);
    return FakeTransform(encoded, seed, out);
  };
  const std::vector<Batch> batches = LoadAll(dataset, options, 0);
  EXPECT_EQ(batches.size(), 4u);
  EXPECT_GT(most.load(), 1);
  EXPECT_LE(most.load(), 4);
}

// The workers never start a sample more than prefetch_batches batches ahead of the consumer.
TEST(LoaderTest, WorkStaysWithinThePrefetchWindow) {
  FakeDataset dataset(60);
  for (int prefetch : {1, 3}) {
    std::atomic<int> started{0};
    LoaderOptions options = Options(4, prefetch, /*batch_size=*/5);
    options.transform = [&](absl::string_view encoded, uint64_t seed, uint8_t* out) {
      started.fetch_add(1);
      return FakeTransform(encoded, seed, out);
    };
    Loader loader(dataset, options, 0);
    Batch batch;
    for (int b = 0; b < 4; ++b) {
      ASSERT_TRUE(loader.Next(&batch));
      // Batches 0..b handed out: at most the next `prefetch` batches' samples have started.
      EXPECT_LE(started.load(), 5 * (b + 1 + prefetch)) << "prefetch " << prefetch << " batch " << b;
    }
  }
}

TEST(LoaderTest, ResumingAtABatchContinuesIdentically) {
  FakeDataset dataset(40);
  const std::vector<Batch> whole = LoadAll(dataset, Options(2, 2), 1);
  const std::vector<Batch> resumed = LoadAll(dataset, Options(3, 4), 1, /*start=*/5);
  ExpectSameBatches(resumed, std::vector<Batch>(whole.begin() + 5, whole.end()));
}

TEST(LoaderTest, UndecodableSamplesAreSkippedAndCounted) {
  FakeDataset dataset(20);
  dataset.undecodable = {3, 7, 8};
  Loader loader(dataset, Options(2, 2), 0);
  Batch batch;
  int64_t images = 0, skipped = 0;
  while (loader.Next(&batch)) {
    images += batch.images.size(0);
    skipped += batch.skipped;
    EXPECT_EQ(batch.images.size(0), batch.labels.size(0));
    ASSERT_EQ(batch.samples.size(), static_cast<size_t>(batch.images.size(0)));
    for (int64_t k = 0; k < batch.images.size(0); ++k) {
      EXPECT_EQ(dataset.undecodable.count(batch.images[k][0][0][0].item<int>()), 0u);
      EXPECT_EQ(batch.samples[k], static_cast<size_t>(batch.images[k][0][0][0].item<int>()));
    }
  }
  EXPECT_TRUE(loader.status().ok()) << loader.status();
  EXPECT_EQ(images, 17);
  EXPECT_EQ(skipped, 3);
  EXPECT_EQ(loader.skipped(), 3);
}

TEST(LoaderTest, CorruptRecordStopsWithItsNameUnlessSkipped) {
  FakeDataset dataset(30);
  dataset.corrupt = {12};
  {
    Loader loader(dataset, Options(2, 2), 0);
    Batch batch;
    while (loader.Next(&batch)) {
    }
    EXPECT_TRUE(absl::IsDataLoss(loader.status())) << loader.status();
    EXPECT_NE(loader.status().message().find("fake@12"), std::string::npos);
  }
  LoaderOptions skipping = Options(2, 2);
  skipping.skip_corrupt = true;
  int64_t images = 0;
  for (const Batch& batch : LoadAll(dataset, skipping, 0)) images += batch.images.size(0);
  EXPECT_EQ(images, 29);
}

TEST(LoaderTest, NchwLayout) {
  FakeDataset dataset(6);
  LoaderOptions options = Options(1, 1);
  options.nchw = true;
  std::vector<Batch> batches = LoadAll(dataset, options, 0);
  std::vector<Batch> nhwc = LoadAll(dataset, Options(1, 1), 0);
  ASSERT_EQ(batches[0].images.sizes(), (std::vector<int64_t>{5, 3, 4, 4}));
  EXPECT_TRUE(batches[0].images.is_contiguous());
  EXPECT_TRUE(torch::equal(batches[0].images, nhwc[0].images.permute({0, 3, 1, 2})));
}

TEST(LoaderTest, StoppingMidEpochShutsDownCleanly) {
  FakeDataset dataset(1000);
  for (int trial = 0; trial < 20; ++trial) {
    Loader loader(dataset, Options(3, 2, 2), trial);
    Batch batch;
    for (int i = 0; i < trial % 4; ++i) ASSERT_TRUE(loader.Next(&batch));
  }  // destructor joins workers blocked on a full prefetch queue
}

// A transform that throws (LibTorch's c10::Error, the allocator's std::bad_alloc) on a
// worker thread ends the epoch with a status naming the sample instead of the process.
TEST(LoaderTest, ExceptionsInTheTransformBecomeAStatusNamingTheSample) {
  FakeDataset dataset(30);
  for (const bool out_of_memory : {true, false}) {
    for (int threads : {1, 3}) {
      LoaderOptions options = Options(threads, 2);
      options.transform = [out_of_memory](absl::string_view encoded, uint64_t seed,
                                          uint8_t* out) -> absl::Status {
        if (encoded == "img 17") {
          if (out_of_memory) throw std::bad_alloc();
          TORCH_CHECK(false, "tensor trouble");
        }
        return FakeTransform(encoded, seed, out);
      };
      Loader loader(dataset, options, 0);
      Batch batch;
      while (loader.Next(&batch)) {
      }
      EXPECT_EQ(loader.status().code(), out_of_memory ? absl::StatusCode::kResourceExhausted
                                                      : absl::StatusCode::kInternal)
          << loader.status();
      EXPECT_EQ(loader.status().message().rfind("fake@17: ", 0), 0u) << loader.status();
      if (!out_of_memory) {
        EXPECT_NE(loader.status().message().find("tensor trouble"), std::string::npos);
        EXPECT_EQ(loader.status().message().find("Exception raised from"), std::string::npos)
            << "backtrace kept: " << loader.status();
      }
    }
  }
}

// Two failing batches: whatever the thread count, every batch before the first is handed out,
// then the first one's error.
TEST(LoaderTest, TheFirstErrorInBatchOrderIsKept) {
  FakeDataset dataset(60);
  const EpochSampler sampler(60, Options(1, 1).sampler, 0);
  // Samples of batches 3 and 8.
  dataset.corrupt = {sampler.Batch(3)[1], sampler.Batch(8)[0]};
  for (int threads : {1, 2, 4}) {
    for (int prefetch : {1, 4, 12}) {
      Loader loader(dataset, Options(threads, prefetch), 0);
      Batch batch;
      int64_t batches = 0;
      while (loader.Next(&batch)) ++batches;
      EXPECT_EQ(batches, 3) << threads << " threads, prefetch " << prefetch;
      EXPECT_TRUE(absl::IsDataLoss(loader.status())) << loader.status();
      EXPECT_NE(loader.status().message().find(absl::StrCat("fake@", sampler.Batch(3)[1])),
                std::string::npos)
          << loader.status();
      EXPECT_FALSE(loader.Next(&batch));
    }
  }
}

// Encoded images in memory: Describe(i) is "mem@<i>".
class MemoryDataset : public ImageDataset {
 public:
  explicit MemoryDataset(std::vector<std::string> images) : images_(std::move(images)) {
    classes_.emplace_back();
  }
  const std::string& source() const override { return source_; }
  size_t size() const override { return images_.size(); }
  const std::vector<ClassInfo>& classes() const override { return classes_; }
  std::string Describe(size_t i) const override { return absl::StrCat("mem@", i); }
  absl::StatusOr<EncodedSample> Read(size_t i) const override {
    return EncodedSample{images_[i], 0};
  }

 private:
  std::vector<std::string> images_;
  std::string source_ = "memory";
  std::vector<ClassInfo> classes_;
};

// Very wide, very tall and 1-pixel images through the real transforms: training crops inside
// any of them; evaluation skips (and counts) those whose resize would be unbounded.
TEST(LoaderTest, ExtremeImagesWithTheRealTransforms) {
  std::vector<uint8_t> rgb(20000 * 2 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  const std::vector<std::string> images = {
      testdata::EncodeJpeg(rgb.data(), 64, 48, 90),     // 0: ordinary
      testdata::EncodePng(rgb.data(), 20000, 2, 3),     // 1: very wide
      testdata::EncodePng(rgb.data(), 2, 20000, 3),     // 2: very tall
      testdata::EncodeJpeg(rgb.data(), 20000, 2, 90),   // 3: very wide JPEG
      testdata::EncodeJpeg(rgb.data(), 1, 1, 90),       // 4: one pixel
      testdata::EncodePng(rgb.data(), 1, 1, 3),         // 5: one pixel PNG
      testdata::EncodeJpeg(rgb.data(), 48, 64, 90),     // 6: ordinary
  };
  const MemoryDataset dataset(images);
  for (const bool train : {true, false}) {
    LoaderOptions options;
    options.sampler.batch_size = 3;
    options.sampler.shuffle = false;
    options.height = options.width = 32;
    options.threads = 2;
    if (train) {
      TrainTransformOptions transform;
      transform.size = 32;
      options.transform = [transform](absl::string_view encoded, uint64_t seed, uint8_t* out) {
        return TrainTransform(encoded, transform, seed, out);
      };
    } else {
      EvalTransformOptions transform;
      transform.size = 32;
      options.transform = [transform](absl::string_view encoded, uint64_t, uint8_t* out) {
        return EvalTransform(encoded, transform, out);
      };
    }
    Loader loader(dataset, options, 0);
    Batch batch;
    std::vector<size_t> used;
    while (loader.Next(&batch)) used.insert(used.end(), batch.samples.begin(), batch.samples.end());
    ASSERT_TRUE(loader.status().ok()) << loader.status();
    if (train) {
      EXPECT_EQ(used, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6}));
      EXPECT_EQ(loader.skipped(), 0);
    } else {
      EXPECT_EQ(used, (std::vector<size_t>{0, 4, 5, 6}));
      EXPECT_EQ(loader.skipped(), 3);
    }
  }
}

}  // namespace
}  // namespace forge

namespace forge {
namespace {

TEST(BatchBufferPoolTest, ReusesBuffersOnceReleased) {
  auto pool = std::make_shared<BatchBufferPool>(/*max_free=*/2);
  torch::Tensor a = pool->Get({2, 4, 4, 3}, /*pinned=*/false);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{2, 4, 4, 3}));
  EXPECT_EQ(a.dtype(), torch::kUInt8);
  EXPECT_TRUE(a.is_contiguous());
  void* memory = a.data_ptr();
  torch::Tensor view = a.narrow(0, 0, 1);
  a = torch::Tensor();
  EXPECT_EQ(pool->free_buffers(), 0u);  // The view still uses it.
  view = torch::Tensor();
  EXPECT_EQ(pool->free_buffers(), 1u);
  // Same byte size, any shape: the same memory again.
  torch::Tensor b = pool->Get({96}, false);
  EXPECT_EQ(b.data_ptr(), memory);
  EXPECT_EQ(pool->free_buffers(), 0u);
  // Another size gets new memory.
  torch::Tensor c = pool->Get({7}, false);
  EXPECT_NE(c.data_ptr(), memory);
}

TEST(BatchBufferPoolTest, KeepsAtMostMaxFreeAndOutlivesNothing) {
  auto pool = std::make_shared<BatchBufferPool>(/*max_free=*/2);
  std::vector<torch::Tensor> tensors;
  for (int i = 0; i < 5; ++i) tensors.push_back(pool->Get({16}, false));
  tensors.clear();
  EXPECT_EQ(pool->free_buffers(), 2u);
  // A tensor that outlives its pool keeps its memory valid, and frees it itself.
  torch::Tensor survivor = pool->Get({16}, false);
  pool.reset();
  survivor.fill_(7);
  EXPECT_EQ(survivor.sum().item<int64_t>(), 16 * 7);
}

TEST(LoaderTest, SharedBufferPoolAcrossEpochsGivesTheSameBatches) {
  FakeDataset dataset(23);
  LoaderOptions pooled = Options(2, 2);
  pooled.buffers = std::make_shared<BatchBufferPool>();
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    // Batches are dropped as they come, so their buffers go back and are reused.
    Loader loader(dataset, pooled, epoch);
    Loader reference(dataset, Options(1, 1), epoch);
    Batch a, b;
    while (loader.Next(&a)) {
      ASSERT_TRUE(reference.Next(&b));
      EXPECT_TRUE(torch::equal(a.images, b.images)) << "epoch " << epoch << " batch " << a.index;
      EXPECT_TRUE(torch::equal(a.labels, b.labels));
    }
    EXPECT_FALSE(reference.Next(&b));
  }
  EXPECT_GT(pooled.buffers->free_buffers(), 0u);
}

}  // namespace
}  // namespace forge
