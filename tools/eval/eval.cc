#include "tools/eval/eval.h"

#include <algorithm>
#include <utility>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/engine/build.h"
#include "lib/engine/evaluate.h"
#include "lib/engine/input.h"
#include "lib/engine/trained_model.h"
#include "lib/io/proto_file.h"
#include "lib/train/autocast.h"
#include "lib/train/device.h"

namespace forge {
namespace {

absl::StatusOr<EvalResult> EvalOn(const EvalToolOptions& options, torch::Device device) {
  absl::StatusOr<std::unique_ptr<ImageDataset>> opened = OpenImageDataset(options.data);
  if (!opened.ok()) return opened.status();
  const ImageDataset& data = **opened;

  absl::StatusOr<TrainedModel> trained =
      LoadTrainedModel(options.checkpoint, options.model, static_cast<int64_t>(data.classes().size()), options.weights);
  if (!trained.ok()) return trained.status();
  const TrainState& state = trained->state;
  if (state.classes_size() > 0) {
    const std::vector<std::string> classes(state.classes().begin(), state.classes().end());
    if (absl::Status status = CheckClasses(classes, options.checkpoint, data); !status.ok()) return status;
  }
  ChannelStats stats = state.stats();
  if (!options.stats.empty()) {
    if (absl::Status status = ReadProtoFile(options.stats, &stats); !status.ok()) return status;
  }
  absl::StatusOr<Normalizer> normalizer = BuildNormalizer(
      stats, device, options.stats.empty() ? absl::StrCat(options.checkpoint, " (pass --stats)") : options.stats);
  if (!normalizer.ok()) return normalizer.status();
  ResNet& model = trained->model;
  // As the run validated: its memory format, cuDNN mode and autocast precision (bare weights:
  // fp32, contiguous).
  const TrainConfig& run = state.config();
  PlaceModel(run, device, model);
  model->eval();
  const AutocastMode autocast = AutocastFor(run.precision(), device.type());

  EvalTransformOptions transform;
  transform.size = options.center_crop;
  transform.resize_shorter = options.resize_shorter;
  LoaderOptions loader_options = CenterCropLoaderOptions(transform, options.batch_size);
  loader_options.threads = options.threads;
  if (options.group != nullptr) {
    loader_options =
        RankShare(std::move(loader_options), options.group->rank(), options.group->size(), options.local_processes);
  }
  EvaluateOptions evaluate;
  evaluate.group = options.group;
  evaluate.flip_tta = options.flip_tta;
  evaluate.predictions = options.predictions;
  evaluate.channels_last = run.channels_last();
  absl::StatusOr<Evaluation> evaluation = Evaluate(
      [&](const torch::Tensor& x) {
        AutocastGuard guard(device.type(), autocast);
        return model->forward(x);
      },
      data, loader_options, *normalizer, evaluate);
  if (!evaluation.ok()) return evaluation.status();

  EvalResult result = std::move(evaluation->result);
  result.mutable_classes()->Assign(data.classes().begin(), data.classes().end());
  EvalOptions* used = result.mutable_options();
  used->set_checkpoint(options.checkpoint);
  used->set_data(options.data);
  used->set_resize_shorter(options.resize_shorter);
  used->set_center_crop(options.center_crop);
  used->set_flip_tta(options.flip_tta);
  used->set_weights(options.weights == Weights::kEma ? "ema" : "model");
  used->set_batch_size(options.batch_size);
  used->set_device(device.str());
  return result;
}

}  // namespace

absl::StatusOr<EvalResult> RunEval(const EvalToolOptions& options) {
  if (options.checkpoint.empty() || options.data.empty()) {
    return absl::InvalidArgumentError("--checkpoint and --data are required");
  }
  if (options.center_crop <= 0 || options.resize_shorter < options.center_crop || options.batch_size <= 0) {
    return absl::InvalidArgumentError("need 0 < --center_crop <= --resize_shorter and --batch_size > 0");
  }
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  try {
    return EvalOn(options, *device);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace forge
