#include "lib/engine/predictor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/data/synset_mapping.h"
#include "lib/engine/build.h"
#include "lib/image/decode.h"
#include "lib/image/resize.h"
#include "lib/io/proto_file.h"
#include "lib/parallel/ordered_pipeline.h"
#include "lib/train/device.h"
#include "lib/util/cores.h"
#include "lib/util/exception_status.h"

namespace forge {
namespace {

// ImageNet's; what bare weights without a synset mapping are taken to classify.
constexpr int64_t kDefaultClasses = 1000;

// The classes of `state` (a checkpoint's WNIDs), else the mapping's WNIDs in sorted order, else
// `count` classes named by their index; named from the mapping where it has them.
std::vector<ClassLabel> Labels(const TrainState& state, const std::map<std::string, std::string>& mapping,
                               int64_t count) {
  std::vector<ClassLabel> classes;
  if (state.classes_size() > 0) {
    for (const std::string& wnid : state.classes()) classes.push_back({wnid, wnid});
  } else if (!mapping.empty()) {
    for (const auto& [wnid, name] : mapping) classes.push_back({wnid, wnid});
  } else {
    for (int64_t c = 0; c < count; ++c) classes.push_back({absl::StrCat(c), absl::StrCat(c)});
  }
  for (ClassLabel& label : classes) {
    auto it = mapping.find(label.wnid);
    if (it != mapping.end()) label.name = it->second;
  }
  return classes;
}

// The evaluation transform of `options` over the run's (see PredictorOptions).
absl::StatusOr<EvalTransformOptions> Transform(const PredictorOptions& options, const TrainConfig& run) {
  EvalTransformOptions transform;
  transform.size = 224;
  transform.crop_ratio = 224.0 / 256.0;
  if (run.data().has_eval_size()) transform.size = run.data().eval_size();
  if (run.data().has_eval_crop_ratio()) transform.crop_ratio = run.data().eval_crop_ratio();
  if (options.center_crop > 0) transform.size = options.center_crop;
  transform.resize_shorter = options.resize_shorter;
  if (options.center_crop < 0 || options.resize_shorter < 0 ||
      (options.resize_shorter > 0 && options.resize_shorter < transform.size) || transform.size <= 0 ||
      !(transform.crop_ratio > 0 && transform.crop_ratio <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("need 0 < center crop <= resize of the shorter side, not ",
                                                   transform.size, " and ", options.resize_shorter));
  }
  if (absl::Status status = CheckImageSize(transform.size, transform.size); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("center crop ", transform.size, ": ", status.message()));
  }
  if (options.max_pixels > 0) transform.decode.max_pixels = options.max_pixels;
  return transform;
}

}  // namespace

Predictor::Predictor(ResNet model, Normalizer normalizer, std::vector<ClassLabel> classes,
                     EvalTransformOptions transform, AutocastMode autocast, bool channels_last, int threads)
    : model_(std::move(model)),
      normalizer_(std::move(normalizer)),
      classes_(std::move(classes)),
      transform_(std::move(transform)),
      autocast_(autocast),
      channels_last_(channels_last),
      threads_(threads) {}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::Create(const PredictorOptions& options) {
  if (options.weights_path.empty()) return absl::InvalidArgumentError("no weights to predict with (--weights)");
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  try {
    std::map<std::string, std::string> mapping;
    if (!options.synset_mapping.empty()) {
      absl::StatusOr<std::map<std::string, std::string>> read = ReadSynsetMapping(options.synset_mapping);
      if (!read.ok()) return read.status();
      mapping = *std::move(read);
    }
    const int64_t bare_classes = mapping.empty() ? kDefaultClasses : static_cast<int64_t>(mapping.size());
    absl::StatusOr<TrainedModel> trained =
        LoadTrainedModel(options.weights_path, options.model, bare_classes, options.weights);
    if (!trained.ok()) return trained.status();
    const TrainState& state = trained->state;
    const TrainConfig& run = state.config();

    absl::StatusOr<EvalTransformOptions> transform = Transform(options, run);
    if (!transform.ok()) return transform.status();
    ChannelStats stats = state.stats();
    if (!options.stats.empty()) {
      if (absl::Status status = ReadProtoFile(options.stats, &stats); !status.ok()) return status;
    }
    absl::StatusOr<Normalizer> normalizer = BuildNormalizer(
        stats, *device,
        options.stats.empty() ? absl::StrCat(options.weights_path, " (pass --stats)") : options.stats);
    if (!normalizer.ok()) return normalizer.status();

    std::vector<ClassLabel> classes = Labels(state, mapping, bare_classes);
    const int64_t outputs = trained->model->fc->weight.size(0);
    if (static_cast<int64_t>(classes.size()) != outputs) {
      return absl::InvalidArgumentError(absl::StrCat(options.weights_path, " has ", outputs, " outputs but ",
                                                     classes.size(), " classes are named"));
    }
    // As eval runs it: the run's memory format, cuDNN mode and autocast precision (bare weights:
    // fp32, contiguous).
    ResNet model = std::move(trained->model);
    PlaceModel(run, *device, model);
    model->eval();
    return std::unique_ptr<Predictor>(new Predictor(
        std::move(model), *std::move(normalizer), std::move(classes), *std::move(transform),
        AutocastFor(run.precision(), device->type()), run.channels_last(),
        options.threads > 0 ? options.threads : UsableCores()));
  } catch (...) {
    return CurrentExceptionStatus(options.weights_path);
  }
}

absl::Status Predictor::Check(absl::string_view encoded) const {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(encoded);
  if (!header.ok()) return header.status();
  const int64_t pixels = int64_t{header->width} * header->height;
  if (max_pixels() > 0 && pixels > max_pixels()) {
    return absl::InvalidArgumentError(absl::StrCat("image of ", header->width, " x ", header->height, " = ", pixels,
                                                   " pixels, more than the limit of ", max_pixels()));
  }
  const int shorter = transform_.resize_shorter > 0
                          ? transform_.resize_shorter
                          : static_cast<int>(std::floor(transform_.size / transform_.crop_ratio));
  return ShorterSideSize(header->width, header->height, shorter).status();
}

std::vector<absl::StatusOr<TopK>> Predictor::Predict(const std::vector<absl::string_view>& encoded, int k) {
  const int64_t n = static_cast<int64_t>(encoded.size());
  if (k < 1) {
    return std::vector<absl::StatusOr<TopK>>(
        n, absl::InvalidArgumentError(absl::StrCat("k = ", k, ": at least one class must be asked for")));
  }
  const int64_t side = transform_.size;
  const int64_t image_bytes = side * side * 3;
  std::vector<absl::Status> decoded(n);
  torch::Tensor images;
  try {
    images = torch::empty({n, side, side, 3}, torch::kUInt8);
  } catch (...) {
    return std::vector<absl::StatusOr<TopK>>(n, CurrentExceptionStatus("the batch's pixels"));
  }
  uint8_t* const pixels = images.data_ptr<uint8_t>();
  // Every image is decoded whatever happens to the others: produce never fails, each image's
  // outcome lands in decoded[i].
  PipelineOptions pipeline;
  pipeline.threads = static_cast<int>(std::min<int64_t>(threads_, std::max<int64_t>(n, 1)));
  const absl::Status status = RunOrderedPipeline<bool>(
      n, pipeline,
      [&](int64_t i) -> absl::StatusOr<bool> {
        try {
          decoded[i] = EvalTransform(encoded[i], transform_, pixels + i * image_bytes);
        } catch (...) {
          decoded[i] = CurrentExceptionStatus("decoding");
        }
        return true;
      },
      [](int64_t, bool) { return absl::OkStatus(); });
  if (!status.ok()) return std::vector<absl::StatusOr<TopK>>(n, status);
  // Callers decode at the same time; their batches take the model in turn.
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    return Forward(images, decoded, k);
  } catch (...) {
    const absl::Status failed = CurrentExceptionStatus("the model");
    std::vector<absl::StatusOr<TopK>> answers;
    for (const absl::Status& image : decoded) answers.push_back(image.ok() ? failed : image);
    return answers;
  }
}

std::vector<absl::StatusOr<TopK>> Predictor::Forward(const torch::Tensor& images,
                                                     const std::vector<absl::Status>& decoded, int k) {
  const int64_t n = static_cast<int64_t>(decoded.size());
  std::vector<absl::StatusOr<TopK>> answers;
  std::vector<int64_t> good;
  for (int64_t i = 0; i < n; ++i) {
    if (decoded[i].ok()) {
      good.push_back(i);
      answers.emplace_back(TopK());  // filled in below
    } else {
      answers.emplace_back(decoded[i]);
    }
  }
  if (good.empty()) return answers;
  torch::NoGradGuard no_grad;
  torch::Tensor batch = images;
  if (static_cast<int64_t>(good.size()) < n) batch = images.index_select(0, torch::tensor(good, torch::kInt64));
  const torch::Tensor x = normalizer_(batch, channels_last_);
  torch::Tensor logits;
  {
    AutocastGuard autocast(normalizer_.device().type(), autocast_);
    logits = model_->forward(x);
  }
  // As Evaluate computes them (log_softmax in float32, top-k, exp), so the probabilities are
  // eval's to the last bit for the same logits.
  const int64_t top = std::min<int64_t>(k, logits.size(1));
  auto [top_log_p, top_index] = torch::log_softmax(logits.to(torch::kFloat32), 1).topk(top, 1);
  const torch::Tensor index_cpu = top_index.cpu();
  const torch::Tensor p_cpu = top_log_p.exp().cpu();
  const auto index_of = index_cpu.accessor<int64_t, 2>();
  const auto p_of = p_cpu.accessor<float, 2>();
  for (size_t r = 0; r < good.size(); ++r) {
    TopK answer;
    for (int64_t j = 0; j < top; ++j) {
      answer.classes.push_back(static_cast<int>(index_of[r][j]));
      answer.probabilities.push_back(p_of[r][j]);
    }
    answers[good[r]] = std::move(answer);
  }
  return answers;
}

}  // namespace forge
