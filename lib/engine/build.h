// The parts of a run, built from a resolved TrainConfig the same way for `train`, `lr_find` and
// `eval`: the data's classes checked, the normaliser, the model (seeded, on its device, in its
// memory format), the batch arithmetic, and the optimizer with its loss scaler and step.
//
//   absl::StatusOr<ResNet> model = BuildModel(config, num_classes);
//   PlaceModel(config, device, *model);
//   absl::StatusOr<Optimization> optimization = BuildOptimization(config, *model, lr, device);
//   optimization->step->Accumulate(images, labels);
#ifndef FORGE_LIB_ENGINE_BUILD_H_
#define FORGE_LIB_ENGINE_BUILD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/data/dataset.h"
#include "lib/data/normalize.h"
#include "lib/engine/process_group.h"
#include "lib/engine/step.h"
#include "lib/model/resnet.h"
#include "lib/train/grad_scaler.h"
#include "proto/stats.pb.h"
#include "proto/train_config.pb.h"

namespace forge {

// The WNIDs of `data`'s classes, in class-index order.
std::vector<std::string> ClassWnids(const ImageDataset& data);

// OK when `data`'s classes are `expected` (WNIDs in class-index order, those of `expected_from`),
// so that labels mean the same; InvalidArgument naming both sources and the first difference.
absl::Status CheckClasses(const std::vector<std::string>& expected, absl::string_view expected_from,
                          const ImageDataset& data);

// The normaliser of `stats` on `device`; InvalidArgument prefixed with `source` (the file the
// statistics came from) when they are not 3 means and 3 positive deviations.
absl::StatusOr<Normalizer> BuildNormalizer(const ChannelStats& stats, torch::Device device, absl::string_view source);

// The config's model for `num_classes` classes on the CPU, initialised from config.seed (which
// seeds LibTorch's generator), with deterministic algorithms switched on when config.deterministic.
// InvalidArgument for an unknown model name.
absl::StatusOr<ResNet> BuildModel(const TrainConfig& config, int64_t num_classes);

// Moves `model` to `device`, in channels_last memory format when config.channels_last; on CUDA
// switches cuDNN's autotuning (benchmark mode) on unless config.deterministic.
void PlaceModel(const TrainConfig& config, torch::Device device, ResNet& model);

// Images per micro-batch in each of `processes` processes sharing the global batch: batch_size /
// (processes x grad_accumulation); InvalidArgument unless it divides.
absl::StatusOr<int64_t> MicroBatchSize(const TrainConfig& config, int64_t batch_size, int processes = 1);

// Full batches of `batch_size` in `data` (named `source` in errors); InvalidArgument when none.
absl::StatusOr<int64_t> StepsPerEpoch(const ImageDataset& data, absl::string_view source, int64_t batch_size);

// What trains a model: the config's optimizer (at `initial_lr` until the step sets its LR), the
// loss scaler (active for fp16) and the step arithmetic that uses both. Held by pointers so that
// the step's references survive moves of this struct.
struct Optimization {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<GradScaler> scaler;
  std::unique_ptr<TrainStep> step;
};

// `config` and `model` must outlive the result (its step refers to them). InvalidArgument for an
// optimizer config that does not fit, or fp16 on a device other than CUDA.
absl::StatusOr<Optimization> BuildOptimization(const TrainConfig& config, ResNet& model, double initial_lr,
                                               torch::Device device, ProcessGroup* group = nullptr);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_BUILD_H_
