// Classification metrics accumulated over batches: top-1/top-5 counts and mean loss, and a
// confusion matrix. Counting runs on the logits' device; only a few integers come back per batch.
#ifndef FORGE_LIB_TRAIN_METRICS_H_
#define FORGE_LIB_TRAIN_METRICS_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace forge {

// Images seen, how many had the label as the top prediction / among the top 5, and the sum of
// per-image losses (mean batch loss x batch size).
//
//   ClassificationCounts counts;
//   for (...) CountBatch(logits, labels, loss.item<double>(), &counts);
//   LOG(INFO) << counts.Top1Percent() << "% top-1";
struct ClassificationCounts {
  int64_t images = 0;
  int64_t top1 = 0;
  int64_t top5 = 0;
  double loss_sum = 0;

  // 100 * top1 / images; 0 when no images.
  double Top1Percent() const;
  // 100 * top5 / images; 0 when no images.
  double Top5Percent() const;
  // loss_sum / images (the image-weighted mean); 0 when no images.
  double MeanLoss() const;
  // Adds `other`'s counts (e.g. from another worker or rank).
  void Merge(const ClassificationCounts& other);
};

// Adds a batch: `logits` N x C (any float dtype, any device), `labels` N int64 class indices (moved
// to the logits' device if elsewhere), `mean_loss` the batch's mean loss (adds mean_loss * N).
// Predictions are torch.topk(logits, k = min(5, C)) indices: top-1 counts labels equal to the
// first index, top-5 labels among the k (with fewer than 5 classes, top-5 is top-C, i.e. 100%).
// Ties are broken as torch.topk breaks them, which is not "lowest index first" (on the CPU, topk
// of (1, 1, 1, 0) puts index 1 first) and may differ from argmax and between devices.
// Dies (CHECK) on shapes that do not fit: a programming error.
void CountBatch(const torch::Tensor& logits, const torch::Tensor& labels, double mean_loss,
                ClassificationCounts* counts);

// ClassificationCounts kept on the logits' device: adding a batch reads nothing back to the host,
// so a training step need not wait for the device; Read() does, once, when the loop logs.
//
//   DeviceClassificationCounts counts;
//   for (...) counts.Add(logits, labels, loss);  // loss: the batch's mean, a 0-dim tensor
//   LOG(INFO) << counts.Read().Top1Percent() << "% top-1";
class DeviceClassificationCounts {
 public:
  // As CountBatch, with the mean loss a 0-dim tensor on the logits' device. Dies (CHECK) on
  // shapes that do not fit.
  void Add(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& mean_loss);
  // The counts so far (a copy to the host, which waits for the device); zero before any Add.
  ClassificationCounts Read() const;
  // A copy of the counts so far on `device`, as float64 {images, top1, top5, loss_sum} (zeros
  // before any Add): what processes sum among themselves before FromSums.
  torch::Tensor Sums(torch::Device device) const;
  static ClassificationCounts FromSums(const torch::Tensor& sums);

 private:
  torch::Tensor sums_;  // float64 {images, top1, top5, loss_sum}, exact for counts below 2^53
};

// counts[t * C + p] = how many images of true class t were predicted as p.
//
//   ConfusionMatrix matrix(1000);
//   matrix.Add(labels, logits.argmax(1));
//   int64_t hits = matrix.at(3, 3);
class ConfusionMatrix {
 public:
  // num_classes must be positive (CHECK).
  explicit ConfusionMatrix(int num_classes);

  // Adds N pairs: `labels` and `predictions` int64 N each, on any device (both on the same one).
  // Dies (CHECK) on different sizes or classes outside [0, num_classes): a programming error.
  void Add(const torch::Tensor& labels, const torch::Tensor& predictions);

  // The count of (true class, predicted class).
  int64_t at(int true_class, int predicted) const;
  // Row-major num_classes x num_classes; rows are true classes.
  const std::vector<int64_t>& counts() const { return counts_; }
  int num_classes() const { return num_classes_; }

 private:
  int num_classes_;
  std::vector<int64_t> counts_;
};

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_METRICS_H_
