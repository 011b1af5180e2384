// ClassificationCounts, CountBatch and ConfusionMatrix of metrics.h.
#include "lib/train/metrics.h"

#include <glog/logging.h>

#include <algorithm>

namespace forge {

double ClassificationCounts::Top1Percent() const {
  return images > 0 ? 100.0 * static_cast<double>(top1) / static_cast<double>(images) : 0.0;
}

double ClassificationCounts::Top5Percent() const {
  return images > 0 ? 100.0 * static_cast<double>(top5) / static_cast<double>(images) : 0.0;
}

double ClassificationCounts::MeanLoss() const { return images > 0 ? loss_sum / static_cast<double>(images) : 0.0; }

void ClassificationCounts::Merge(const ClassificationCounts& other) {
  images += other.images;
  top1 += other.top1;
  top5 += other.top5;
  loss_sum += other.loss_sum;
}

void CountBatch(const torch::Tensor& logits, const torch::Tensor& labels, double mean_loss,
                ClassificationCounts* counts) {
  DeviceClassificationCounts batch;
  batch.Add(logits, labels, torch::full({}, mean_loss, torch::TensorOptions().dtype(torch::kFloat64).device(logits.device())));
  counts->Merge(batch.Read());
}

void DeviceClassificationCounts::Add(const torch::Tensor& logits, const torch::Tensor& labels,
                                     const torch::Tensor& mean_loss) {
  CHECK_EQ(logits.dim(), 2) << "logits must be N x C";
  CHECK_EQ(labels.dim(), 1) << "labels must be N";
  CHECK_EQ(labels.size(0), logits.size(0)) << "one label per row of logits";
  CHECK_GT(logits.size(1), 0);
  const int64_t n = logits.size(0);
  if (n == 0) return;
  torch::NoGradGuard no_grad;
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  const torch::Tensor top = std::get<1>(logits.topk(k, /*dim=*/1, /*largest=*/true, /*sorted=*/true));
  const torch::Tensor hits = top.eq(labels.to(top.device(), torch::kInt64).view({n, 1}));
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(logits.device());
  const torch::Tensor batch = torch::stack({torch::full({}, static_cast<double>(n), f64),
                                            hits.select(1, 0).sum().to(torch::kFloat64),
                                            hits.any(1).sum().to(torch::kFloat64),
                                            mean_loss.detach().to(f64) * static_cast<double>(n)});
  sums_ = sums_.defined() ? sums_ + batch : batch;
}

ClassificationCounts DeviceClassificationCounts::Read() const {
  if (!sums_.defined()) return ClassificationCounts();
  return FromSums(sums_);
}

torch::Tensor DeviceClassificationCounts::Sums(torch::Device device) const {
  if (!sums_.defined()) return torch::zeros({4}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  return sums_.to(device, /*non_blocking=*/false, /*copy=*/true);
}

ClassificationCounts DeviceClassificationCounts::FromSums(const torch::Tensor& sums) {
  CHECK_EQ(sums.numel(), 4);
  ClassificationCounts counts;
  const torch::Tensor host = sums.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* v = host.data_ptr<double>();
  counts.images = static_cast<int64_t>(v[0]);
  counts.top1 = static_cast<int64_t>(v[1]);
  counts.top5 = static_cast<int64_t>(v[2]);
  counts.loss_sum = v[3];
  return counts;
}

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : num_classes_(num_classes), counts_(static_cast<size_t>(std::max(num_classes, 0)) * std::max(num_classes, 0)) {
  CHECK_GT(num_classes, 0);
}

void ConfusionMatrix::Add(const torch::Tensor& labels, const torch::Tensor& predictions) {
  CHECK_EQ(labels.dim(), 1);
  CHECK_EQ(predictions.dim(), 1);
  CHECK_EQ(labels.size(0), predictions.size(0)) << "one prediction per label";
  // N pairs come to the CPU (16 bytes an image), not a C x C histogram per batch.
  torch::NoGradGuard no_grad;
  const torch::Tensor t = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor p = predictions.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* true_class = t.data_ptr<int64_t>();
  const int64_t* predicted = p.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.size(0); ++i) {
    CHECK(true_class[i] >= 0 && true_class[i] < num_classes_ && predicted[i] >= 0 && predicted[i] < num_classes_)
        << "confusion matrix classes must be in [0, " << num_classes_ << "): label " << true_class[i]
        << ", prediction " << predicted[i];
    ++counts_[static_cast<size_t>(true_class[i] * num_classes_ + predicted[i])];
  }
}

int64_t ConfusionMatrix::at(int true_class, int predicted) const {
  CHECK(true_class >= 0 && true_class < num_classes_ && predicted >= 0 && predicted < num_classes_);
  return counts_[static_cast<size_t>(true_class) * num_classes_ + predicted];
}

}  // namespace forge
