#include "tools/lr_find/lr_find.h"

#include <algorithm>
#include <memory>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/data/normalize.h"
#include "lib/engine/build.h"
#include "lib/engine/config.h"
#include "lib/engine/device_batch.h"
#include "lib/engine/input.h"
#include "lib/engine/step.h"
#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/train/device.h"
#include "lib/util/progress.h"
#include "proto/stats.pb.h"

namespace forge {
namespace {

absl::StatusOr<LrCurve> RangeTest(const LrFindOptions& options, torch::Device device) {
  SingleProcess alone;
  ProcessGroup& group = options.group != nullptr ? *options.group : alone;
  const TrainConfig& config = options.config;
  LrFindSettings settings = options.settings;
  if (settings.batch_size() == 0) settings.set_batch_size(config.data().batch_size());
  if (absl::Status status = ValidateLrFindSettings(settings); !status.ok()) return status;
  const int64_t batch = settings.batch_size();
  const int64_t accumulation = config.grad_accumulation();
  absl::StatusOr<int64_t> micro_batch_size = MicroBatchSize(config, batch, group.size());
  if (!micro_batch_size.ok()) return micro_batch_size.status();
  if (absl::Status status = CheckPrecision(config, device); !status.ok()) return status;

  ChannelStats stats;
  if (absl::Status status = ReadProtoFile(options.stats, &stats); !status.ok()) return status;
  absl::StatusOr<Normalizer> normalizer = BuildNormalizer(stats, device, options.stats);
  if (!normalizer.ok()) return normalizer.status();
  absl::StatusOr<std::unique_ptr<ImageDataset>> data = OpenImageDataset(options.train_data);
  if (!data.ok()) return data.status();
  absl::StatusOr<int64_t> steps = StepsPerEpoch(**data, options.train_data, batch);
  if (!steps.ok()) return steps.status();
  const int64_t steps_per_epoch = *steps;

  // The model and optimizer as train builds them.
  absl::StatusOr<ResNet> built = BuildModel(config, static_cast<int64_t>((*data)->classes().size()));
  if (!built.ok()) return built.status();
  ResNet model = std::move(*built);
  PlaceModel(config, device, model);
  if (config.sync_batchnorm() && group.size() > 1) {
    model->SyncBatchNorm([&group](const torch::Tensor& sums) { return group.SumWithGradient(sums); });
  }
  if (absl::Status status = group.ShareModel(*model); !status.ok()) return status;
  LrRangeTest test(settings);
  absl::StatusOr<Optimization> optimization = BuildOptimization(config, model, test.lr(), device, &group);
  if (!optimization.ok()) return optimization.status();
  TrainStep& step = *optimization->step;
  torch::optim::Optimizer& optimizer = *optimization->optimizer;
  LOG(INFO) << absl::StrFormat("%s on %s: %d classes, %d images, batch %d (%d steps/epoch); LR %g to %g, %s, %d steps",
                               config.model().name(), device.str(), (*data)->classes().size(), (*data)->size(), batch,
                               steps_per_epoch, settings.start_lr(), settings.end_lr(), settings.mode(),
                               settings.num_iter());

  model->train();
  const LoaderOptions loader_options =
      RankShare(TrainLoaderOptions(config, static_cast<int>(*micro_batch_size), /*epoch=*/1), group.rank(),
                group.size(), options.local_processes);
  ProgressOptions progress_options;
  progress_options.unit = "step";
  ProgressBar progress("lr_find", settings.num_iter(), progress_options);
  for (int64_t epoch = 1; !test.done(); ++epoch) {
    Loader loader(**data, loader_options, epoch);
    DeviceBatchCopier copier(device);
    Batch micro_batch;
    int64_t micro = 0;
    // The step's loss summed over its micro-batches and the processes.
    torch::Tensor loss_sum = torch::zeros({1}, torch::TensorOptions(torch::kFloat64).device(device));
    const int64_t steps_before = test.step();
    optimizer.zero_grad();  // nothing left over from an epoch that ended mid-accumulation
    while (!test.done() && micro < steps_per_epoch * accumulation && loader.Next(&micro_batch)) {
      if (micro_batch.labels.size(0) == 0) continue;
      const DeviceBatch on_device = copier.Copy(micro_batch);
      loss_sum += step
                      .Accumulate((*normalizer)(on_device.images, config.channels_last()), on_device.labels,
                                  MicroBatchAugmentOf(config, static_cast<int>(epoch), micro_batch.index,
                                                      *micro_batch_size, group.rank(), group.size()))
                      .loss.to(torch::kFloat64);
      if (++micro % accumulation != 0) continue;
      const double lr = test.lr();
      if (absl::Status status = step.Apply(lr); !status.ok()) return status;
      // The range test needs every step's loss on the host (the same in every process): one read.
      if (absl::Status status = group.Sum({loss_sum}); !status.ok()) return status;
      const double step_loss = loss_sum.item<double>() / static_cast<double>(accumulation * group.size());
      loss_sum.zero_();
      test.Add(step_loss);
      progress.Add(1);
      progress.SetNote(absl::StrFormat("lr %.3g loss %.4f", lr, step_loss));
    }
    if (!loader.status().ok()) return loader.status();
    if (test.step() == steps_before) {
      return absl::InvalidArgumentError(absl::StrCat(options.train_data, ": no training step in epoch ", epoch,
                                                     " (", loader.skipped(), " images skipped)"));
    }
  }
  progress.Finish();
  LrCurve curve = test.Finish();
  if (curve.diverged()) {
    LOG(INFO) << absl::StrFormat("stopped after %d of %d steps: the loss diverged", test.step(), settings.num_iter());
  }
  return curve;
}

}  // namespace

absl::StatusOr<TrainConfig> LoadLrFindConfig(const std::string& path, const std::vector<std::string>& overrides) {
  TrainConfig unused_by_a_range_test;
  unused_by_a_range_test.set_epochs(1);
  unused_by_a_range_test.mutable_schedule()->mutable_constant();
  return LoadConfig(path, overrides, unused_by_a_range_test);
}

absl::StatusOr<LrCurve> RunLrFind(const LrFindOptions& options) {
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  if (options.threads > 0) torch::set_num_threads(options.threads);
  try {
    return RangeTest(options, *device);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace forge
