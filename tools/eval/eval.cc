#include "tools/eval/eval.h"

#include <algorithm>
#include <filesystem>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/data/augment.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/data/normalize.h"
#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "lib/train/device.h"
#include "lib/train/metrics.h"
#include "lib/util/progress.h"
#include "proto/checkpoint.pb.h"

namespace forge {
namespace {

absl::Status CheckClasses(const TrainState& state, const ImageDataset& data) {
  if (state.classes_size() == 0) return absl::OkStatus();
  const auto& classes = data.classes();
  if (static_cast<int>(classes.size()) != state.classes_size()) {
    return absl::InvalidArgumentError(absl::StrCat(data.source(), " has ", classes.size(),
                                                   " classes, the model was trained on ", state.classes_size()));
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].wnid() != state.classes(static_cast<int>(i))) {
      return absl::InvalidArgumentError(absl::StrCat("class ", i, " of ", data.source(), " is ", classes[i].wnid(),
                                                     ", the model's is ", state.classes(static_cast<int>(i))));
    }
  }
  return absl::OkStatus();
}

// The model and its input statistics, from a checkpoint or from bare weights.
absl::Status LoadModel(const EvalToolOptions& options, int64_t num_classes, ResNet* model, TrainState* state) {
  absl::StatusOr<TrainState> read = ReadTrainState(options.checkpoint);
  std::string model_name = options.model;
  if (read.ok()) {
    *state = std::move(*read);
    if (model_name.empty()) model_name = state->config().model().name();
    if (state->classes_size() > 0) num_classes = state->classes_size();
  } else if (model_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(options.checkpoint, " is not a checkpoint written by train (",
                                                   read.status().message(), "); for bare weights pass --model"));
  }
  absl::StatusOr<ResNetOptions> model_options = ResNetOptionsFromName(model_name, num_classes);
  if (!model_options.ok()) return model_options.status();
  *model = ResNet(*model_options);
  if (read.ok()) {
    TrainState loaded;
    return LoadCheckpoint(options.checkpoint, &loaded, **model, /*optimizer=*/nullptr);
  }
  try {
    torch::load(*model, options.checkpoint);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.checkpoint, ": cannot load weights for ", model_name, ": ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalResult> RunEval(const EvalToolOptions& options) {
  if (options.checkpoint.empty() || options.data.empty()) {
    return absl::InvalidArgumentError("--checkpoint and --data are required");
  }
  if (options.center_crop <= 0 || options.resize_shorter < options.center_crop || options.batch_size <= 0) {
    return absl::InvalidArgumentError("need 0 < --center_crop <= --resize_shorter and --batch_size > 0");
  }
  if (!std::filesystem::exists(options.checkpoint)) {
    return absl::NotFoundError(absl::StrCat("no such checkpoint: ", options.checkpoint));
  }
  absl::StatusOr<torch::Device> parsed = ParseDevice(options.device);
  if (!parsed.ok()) return parsed.status();
  const torch::Device device = *parsed;

  absl::StatusOr<std::unique_ptr<ImageDataset>> opened = OpenImageDataset(options.data);
  if (!opened.ok()) return opened.status();
  const ImageDataset& data = **opened;
  const int num_classes = static_cast<int>(data.classes().size());

  try {
    ResNet model{nullptr};
    TrainState state;
    if (absl::Status status = LoadModel(options, num_classes, &model, &state); !status.ok()) return status;
    if (absl::Status status = CheckClasses(state, data); !status.ok()) return status;
    ChannelStats stats = state.stats();
    if (!options.stats.empty()) {
      if (absl::Status status = ReadProtoFile(options.stats, &stats); !status.ok()) return status;
    }
    absl::StatusOr<Normalizer> normalize = Normalizer::Create(stats, device);
    if (!normalize.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.stats.empty() ? options.checkpoint : options.stats, ": ", normalize.status().message(),
          options.stats.empty() ? " (pass --stats)" : ""));
    }
    model->to(device);
    model->eval();
    torch::NoGradGuard no_grad;

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
    Loader loader(data, loader_options, /*epoch=*/0);

    EvalResult result;
    ConfusionMatrix confusion(num_classes);
    ClassificationCounts counts;
    result.mutable_per_class()->Reserve(num_classes);
    for (int c = 0; c < num_classes; ++c) result.add_per_class();
    ProgressBar progress("eval", static_cast<int64_t>(data.size()));
    const int k = std::min(5, num_classes);
    Batch batch;
    while (loader.Next(&batch)) {
      const int64_t n = batch.labels.size(0);
      if (n == 0) {
        progress.Add(batch.skipped);
        continue;
      }
      torch::Tensor x = (*normalize)(batch.images);
      torch::Tensor probabilities = torch::softmax(model->forward(x).to(torch::kFloat32), 1);
      if (options.flip_tta) {
        probabilities = (probabilities + torch::softmax(model->forward(x.flip({3})).to(torch::kFloat32), 1)) / 2;
      }
      torch::Tensor labels = batch.labels.to(device);
      torch::Tensor log_probabilities = probabilities.clamp_min(1e-12).log();
      const double loss = torch::nll_loss(log_probabilities, labels).item<double>();
      CountBatch(log_probabilities, labels, loss, &counts);
      auto [top_p, top_i] = probabilities.topk(k, 1);
      confusion.Add(labels, top_i.select(1, 0));
      torch::Tensor top_cpu = top_i.cpu(), p_cpu = top_p.cpu();
      auto top = top_cpu.accessor<int64_t, 2>();
      auto p = p_cpu.accessor<float, 2>();
      auto label_of = batch.labels.accessor<int64_t, 1>();
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
    result.set_images(counts.images);
    result.set_top1(counts.Top1Percent());
    result.set_top5(counts.Top5Percent());
    result.set_loss(counts.MeanLoss());
    result.set_images_skipped(loader.skipped());
    result.mutable_classes()->Assign(data.classes().begin(), data.classes().end());
    result.mutable_confusion()->Assign(confusion.counts().begin(), confusion.counts().end());
    EvalOptions* used = result.mutable_options();
    used->set_checkpoint(options.checkpoint);
    used->set_data(options.data);
    used->set_resize_shorter(options.resize_shorter);
    used->set_center_crop(options.center_crop);
    used->set_flip_tta(options.flip_tta);
    used->set_batch_size(options.batch_size);
    used->set_device(device.str());
    return result;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  }
}

}  // namespace forge
