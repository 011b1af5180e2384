#include "lib/engine/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

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
  const int num_classes = static_cast<int>(data.classes().size());
  const int k = std::min(5, num_classes);
  Evaluation evaluation;
  EvalResult& result = evaluation.result;
  for (int c = 0; c < num_classes; ++c) result.add_per_class();
  ConfusionMatrix confusion(num_classes);

  const auto start = Clock::now();
  Loader loader(data, loader_options, /*epoch=*/0);
  ProgressBar progress(options.progress_label, static_cast<int64_t>(data.size()));
  Batch batch;
  while (loader.Next(&batch)) {
    if (options.stop && options.stop()) {
      progress.Finish();
      return absl::CancelledError("evaluation stopped");
    }
    const int64_t n = batch.labels.size(0);
    if (n == 0) {
      progress.Add(batch.skipped);
      continue;
    }
    const torch::Tensor images = normalizer(batch.images, options.channels_last);
    const torch::Tensor log_p = LogProbabilities(forward, images, options.flip_tta);
    const torch::Tensor labels = batch.labels.to(log_p.device());
    CountBatch(log_p, labels, torch::nll_loss(log_p, labels).item<double>(), &evaluation.counts);
    auto [top_log_p, top_index] = log_p.topk(k, 1);
    confusion.Add(labels, top_index.select(1, 0));

    const torch::Tensor top_cpu = top_index.cpu();
    const torch::Tensor p_cpu = top_log_p.exp().cpu();
    const auto top = top_cpu.accessor<int64_t, 2>();
    const auto p = p_cpu.accessor<float, 2>();
    const auto label_of = batch.labels.accessor<int64_t, 1>();
    for (int64_t r = 0; r < n; ++r) {
      const int label = static_cast<int>(label_of[r]);
      ClassResult* per_class = result.mutable_per_class(label);
      per_class->set_support(per_class->support() + 1);
      bool in_top5 = false;
      for (int j = 0; j < k; ++j) in_top5 |= top[r][j] == label;
      if (top[r][0] == label) per_class->set_top1_hits(per_class->top1_hits() + 1);
      if (in_top5) per_class->set_top5_hits(per_class->top5_hits() + 1);
      if (options.predictions) {
        ImagePrediction* prediction = result.add_predictions();
        prediction->set_source(data.Describe(batch.samples[r]));
        prediction->set_label(label);
        for (int j = 0; j < k; ++j) {
          prediction->add_top5(static_cast<int32_t>(top[r][j]));
          prediction->add_top5_probability(p[r][j]);
        }
      }
    }
    progress.Add(n + batch.skipped);
  }
  progress.Finish();
  if (!loader.status().ok()) return loader.status();

  const ClassificationCounts& counts = evaluation.counts;
  result.set_images(counts.images);
  result.set_top1(counts.Top1Percent());
  result.set_top5(counts.Top5Percent());
  result.set_loss(counts.MeanLoss());
  result.set_images_skipped(loader.skipped());
  result.mutable_confusion()->Assign(confusion.counts().begin(), confusion.counts().end());
  evaluation.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  evaluation.wait_seconds = loader.wait_seconds();
  return evaluation;
}

}  // namespace forge
