#include "lib/engine/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "lib/engine/device_batch.h"
#include "lib/util/progress.h"

namespace forge {
namespace {

using Clock = std::chrono::steady_clock;

// Per-image log-probabilities of one batch (float32, N x C): log_softmax of the logits, or with
// flip TTA the log of the mean of the two probability vectors, computed without leaving log space.
torch::Tensor LogProbabilities(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                               const torch::Tensor& images, bool flip_tta) {
  torch::Tensor log_p = torch::log_softmax(forward(images).to(torch::kFloat32), 1);
  if (!flip_tta) return log_p;
  const torch::Tensor mirrored = torch::log_softmax(forward(images.flip({3})).to(torch::kFloat32), 1);
  return torch::logsumexp(torch::stack({log_p, mirrored}), 0) - std::log(2.0);
}

}  // namespace

absl::StatusOr<Evaluation> Evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                    const ImageDataset& data, const LoaderOptions& loader_options,
                                    const Normalizer& normalizer, const EvaluateOptions& options) {
  torch::NoGradGuard no_grad;
  ProcessGroup* const group = options.group;
  if (group != nullptr && group->size() > 1 && options.predictions) {
    return absl::InvalidArgumentError("per-image predictions are kept by a process evaluating alone");
  }
  const int64_t num_classes = static_cast<int64_t>(data.classes().size());
  const int64_t k = std::min<int64_t>(5, num_classes);
  const torch::Device device = normalizer.device();
  Evaluation evaluation;
  EvalResult& result = evaluation.result;
  // Everything is counted on the device and read once at the end: no batch waits for the last.
  DeviceClassificationCounts counts;
  const auto int64_on_device = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor confusion = torch::zeros({num_classes * num_classes}, int64_on_device);
  torch::Tensor top5_hits = torch::zeros({num_classes}, int64_on_device);

  const auto start = Clock::now();
  Loader loader(data, loader_options, /*epoch=*/0);
  DeviceBatchCopier copier(device);
  ProgressBar progress(options.progress_label, static_cast<int64_t>(data.size()));
  Batch batch;
  bool stopped = false;
  while (loader.Next(&batch)) {
    if (options.stop && options.stop()) {
      stopped = true;
      break;
    }
    const int64_t n = batch.labels.size(0);
    if (n == 0) {
      progress.Add(batch.skipped);
      continue;
    }
    const DeviceBatch on_device = copier.Copy(batch);
    const torch::Tensor images = normalizer(on_device.images, options.channels_last);
    const torch::Tensor log_p = LogProbabilities(forward, images, options.flip_tta);
    const torch::Tensor& labels = on_device.labels;
    counts.Add(log_p, labels, torch::nll_loss(log_p, labels));
    auto [top_log_p, top_index] = log_p.topk(k, 1);
    confusion.index_add_(0, labels * num_classes + top_index.select(1, 0), torch::ones({n}, int64_on_device));
    top5_hits.index_add_(0, labels, top_index.eq(labels.view({n, 1})).any(1).to(torch::kInt64));
    if (options.predictions) {
      // Each image's top-5 must come to the host: only when asked for.
      const torch::Tensor top_cpu = top_index.cpu();
      const torch::Tensor p_cpu = top_log_p.exp().cpu();
      const auto top = top_cpu.accessor<int64_t, 2>();
      const auto p = p_cpu.accessor<float, 2>();
      const auto label_of = batch.labels.accessor<int64_t, 1>();
      for (int64_t r = 0; r < n; ++r) {
        ImagePrediction* prediction = result.add_predictions();
        prediction->set_source(data.Describe(batch.samples[r]));
        prediction->set_label(static_cast<int32_t>(label_of[r]));
        for (int64_t j = 0; j < k; ++j) {
          prediction->add_top5(static_cast<int32_t>(top[r][j]));
          prediction->add_top5_probability(p[r][j]);
        }
      }
    }
    progress.Add(n + batch.skipped);
  }
  progress.Finish();
  if (!loader.status().ok()) return loader.status();
  if (group != nullptr) stopped = group->Any(stopped);
  if (stopped) return absl::CancelledError("evaluation stopped");

  torch::Tensor sums = counts.Sums(device);
  torch::Tensor skipped = torch::full({1}, loader.skipped(), int64_on_device);
  if (group != nullptr) {
    if (absl::Status status = group->Sum({sums, confusion, top5_hits, skipped}); !status.ok()) return status;
  }
  evaluation.counts = DeviceClassificationCounts::FromSums(sums);
  const torch::Tensor confusion_cpu = confusion.cpu();
  const torch::Tensor top5_cpu = top5_hits.cpu();
  const int64_t* matrix = confusion_cpu.data_ptr<int64_t>();
  for (int64_t c = 0; c < num_classes; ++c) {
    ClassResult* per_class = result.add_per_class();
    int64_t support = 0;
    for (int64_t p = 0; p < num_classes; ++p) support += matrix[c * num_classes + p];
    per_class->set_support(support);
    per_class->set_top1_hits(matrix[c * num_classes + c]);
    per_class->set_top5_hits(top5_cpu.data_ptr<int64_t>()[c]);
  }
  result.mutable_confusion()->Assign(matrix, matrix + num_classes * num_classes);
  result.set_images(evaluation.counts.images);
  result.set_top1(evaluation.counts.Top1Percent());
  result.set_top5(evaluation.counts.Top5Percent());
  result.set_loss(evaluation.counts.MeanLoss());
  result.set_images_skipped(skipped.item<int64_t>());
  evaluation.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  evaluation.wait_seconds = loader.wait_seconds();
  return evaluation;
}

}  // namespace forge
