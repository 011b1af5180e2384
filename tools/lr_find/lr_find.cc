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
#include "lib/io/proto_file.h"
#include "lib/model/memory_format.h"
#include "lib/model/resnet.h"
#include "lib/train/device.h"
#include "lib/train/grad_scaler.h"
#include "lib/train/optimizer.h"
#include "lib/util/progress.h"
#include "proto/stats.pb.h"
#include "tools/train/config.h"
#include "tools/train/input.h"
#include "tools/train/step.h"

namespace forge {
namespace {

absl::StatusOr<LrCurve> RangeTest(const LrFindOptions& options, torch::Device device) {
  const TrainConfig& config = options.config;
  LrFindSettings settings = options.settings;
  if (settings.batch_size() == 0) settings.set_batch_size(config.data().batch_size());
  if (absl::Status status = ValidateLrFindSettings(settings); !status.ok()) return status;
  const int64_t batch = settings.batch_size();
  const int64_t accumulation = std::max(1, config.grad_accumulation());
  if (batch % accumulation != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch size ", batch, " is not a multiple of grad_accumulation ", accumulation));
  }
  if (absl::Status status = CheckPrecision(config, device); !status.ok()) return status;

  ChannelStats stats;
  if (absl::Status status = ReadProtoFile(options.stats, &stats); !status.ok()) return status;
  absl::StatusOr<Normalizer> normalizer = Normalizer::Create(stats, device);
  if (!normalizer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(options.stats, ": ", normalizer.status().message()));
  }
  absl::StatusOr<std::unique_ptr<ImageDataset>> data = OpenImageDataset(options.train_data);
  if (!data.ok()) return data.status();
  const int64_t steps_per_epoch = static_cast<int64_t>((*data)->size()) / batch;
  if (steps_per_epoch == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.train_data, " has ", (*data)->size(), " images, fewer than one batch of ", batch));
  }

  // The model and optimizer as train's Setup builds them.
  absl::StatusOr<ResNetOptions> model_options =
      ResNetOptionsFromName(config.model().name(), static_cast<int64_t>((*data)->classes().size()));
  if (!model_options.ok()) return model_options.status();
  model_options->zero_init_residual = config.model().zero_init_residual();
  torch::manual_seed(config.seed());
  if (config.deterministic()) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  ResNet model(*model_options);
  model->to(device);
  if (config.channels_last()) ConvertToChannelsLast(*model);
  LrRangeTest test(settings);
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(config.optimizer(), *model, test.lr());
  if (!optimizer.ok()) return optimizer.status();
  GradScaler scaler(config.precision() == "fp16");
  TrainStep step(config, model, **optimizer, scaler, device);
  LOG(INFO) << absl::StrFormat("%s on %s: %d classes, %d images, batch %d (%d steps/epoch); LR %g to %g, %s, %d steps",
                               config.model().name(), device.str(), (*data)->classes().size(), (*data)->size(), batch,
                               steps_per_epoch, settings.start_lr(), settings.end_lr(), settings.mode(),
                               settings.num_iter());

  model->train();
  const LoaderOptions loader_options = TrainLoaderOptions(config, static_cast<int>(batch / accumulation));
  ProgressOptions progress_options;
  progress_options.unit = "step";
  ProgressBar progress("lr_find", settings.num_iter(), progress_options);
  for (int64_t epoch = 1; !test.done(); ++epoch) {
    Loader loader(**data, loader_options, epoch);
    Batch micro_batch;
    int64_t micro = 0;
    double loss_sum = 0;
    const int64_t steps_before = test.step();
    (*optimizer)->zero_grad();  // nothing left over from an epoch that ended mid-accumulation
    while (!test.done() && micro < steps_per_epoch * accumulation && loader.Next(&micro_batch)) {
      if (micro_batch.labels.size(0) == 0) continue;
      loss_sum += step.Accumulate((*normalizer)(micro_batch.images, config.channels_last()),
                                  micro_batch.labels.to(device))
                      .loss;
      if (++micro % accumulation != 0) continue;
      const double lr = test.lr();
      step.Apply(lr);
      const double step_loss = loss_sum / static_cast<double>(accumulation);
      loss_sum = 0;
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
