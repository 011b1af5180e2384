#include "tools/eval/eval.h"

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/data/augment.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/engine/build.h"
#include "lib/engine/evaluate.h"
#include "lib/engine/trained_model.h"
#include "lib/io/proto_file.h"
#include "lib/model/memory_format.h"
#include "lib/train/autocast.h"
#include "lib/train/device.h"

namespace forge {
namespace {

absl::StatusOr<EvalResult> EvalOn(const EvalToolOptions& options, torch::Device device) {
  absl::StatusOr<std::unique_ptr<ImageDataset>> opened = OpenImageDataset(options.data);
  if (!opened.ok()) return opened.status();
  const ImageDataset& data = **opened;

  absl::StatusOr<TrainedModel> trained =
      LoadTrainedModel(options.checkpoint, options.model, static_cast<int64_t>(data.classes().size()));
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
  // As the run validated: its memory format and its autocast precision (fp16 only where CUDA
  // is; bare weights: fp32, contiguous).
  const TrainConfig& run = state.config();
  at::globalContext().setBenchmarkCuDNN(device.is_cuda());
  model->to(device);
  if (run.channels_last()) ConvertToChannelsLast(*model);
  model->eval();
  const bool autocast = run.precision() == "bf16" || (run.precision() == "fp16" && device.is_cuda());
  const at::ScalarType autocast_dtype = run.precision() == "fp16" ? at::kHalf : at::kBFloat16;

  LoaderOptions loader_options;
  loader_options.sampler.shuffle = false;
  loader_options.sampler.batch_size = options.batch_size;
  loader_options.height = loader_options.width = options.center_crop;
  EvalTransformOptions transform;
  transform.size = options.center_crop;
  transform.resize_shorter = options.resize_shorter;
  loader_options.transform = [transform](absl::string_view encoded, uint64_t, uint8_t* out) {
    return EvalTransform(encoded, transform, out);
  };
  loader_options.threads = options.threads;
  EvaluateOptions evaluate;
  evaluate.flip_tta = options.flip_tta;
  evaluate.predictions = options.predictions;
  evaluate.channels_last = run.channels_last();
  absl::StatusOr<Evaluation> evaluation = Evaluate(
      [&](const torch::Tensor& x) {
        AutocastGuard guard(device.type(), autocast_dtype, autocast);
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
