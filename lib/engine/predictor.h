// A trained model answering "what is in these images?": encoded JPEG/PNG bytes in, each image's
// most probable classes out, computed as `eval` computes them (the same model, statistics,
// device placement, autocast and Pillow-exact evaluation transform), so an image's top-k here is
// its top-5 in `eval --predictions`. What `predict` and `serve` run.
//
//   PredictorOptions options;
//   options.weights_path = "runs/r50/checkpoints/best.ckpt";
//   absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(options);
//   std::vector<absl::StatusOr<TopK>> answers = (*predictor)->Predict({jpeg_bytes}, 5);
//   if (answers[0].ok()) LOG(INFO) << (*predictor)->classes()[answers[0]->classes[0]].name;
#ifndef FORGE_LIB_ENGINE_PREDICTOR_H_
#define FORGE_LIB_ENGINE_PREDICTOR_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/data/augment.h"
#include "lib/data/normalize.h"
#include "lib/engine/trained_model.h"
#include "lib/model/resnet.h"
#include "lib/train/autocast.h"

namespace forge {

struct PredictorOptions {
  // A checkpoint written by train (model, classes, statistics and evaluation transform come with
  // it), or anything else LoadTrainedModel reads (bare LibTorch weights: then `model` and
  // `stats`). Required.
  std::string weights_path;
  Weights weights = Weights::kModel;  // the checkpoint's weights, or their moving average
  std::string model;                  // bare weights only, e.g. "resnet50"
  std::string stats;                  // ChannelStats file; overrides the stored statistics
  // LOC_synset_mapping.txt: the classes' names (default: a class is named by its WNID). For bare
  // weights it also gives the classes, its WNIDs in sorted order (as ImageFolder and shard number
  // them); bare weights without it have 1000 classes, each named by its index.
  std::string synset_mapping;
  // The evaluation transform: resize the shorter side to `resize_shorter`, then center crop a
  // `center_crop` square. 0 (the default): the run's own, data.eval_size and
  // data.eval_crop_ratio of the checkpoint's config, and 256 / 224 where the file does not say.
  int resize_shorter = 0;
  int center_crop = 0;
  std::string device;  // "cpu", "cuda", "cuda:N"; empty: CUDA when present
  int threads = 0;     // decoding threads per Predict call; 0: one per usable core
  // Decompression-bomb limit: an image with more pixels is refused from its header. 0: Pillow's
  // (DecodeOptions' default, 178956970).
  int64_t max_pixels = 0;
};

// A class of the model, in class-index order.
struct ClassLabel {
  std::string wnid;  // e.g. "n01440764" (the checkpoint's class name)
  std::string name;  // e.g. "tench, Tinca tinca"; the WNID when there is no mapping for it
};

// One image's most probable classes, most probable first.
struct TopK {
  std::vector<int> classes;          // indices into Predictor::classes()
  std::vector<float> probabilities;  // softmax in float32, of the same length
};

// Thread-safe: concurrent Predict calls decode at the same time and take the model one after
// another.
class Predictor {
 public:
  // Loads the model onto its device. Errors: those of LoadTrainedModel (NotFound for a missing
  // file, InvalidArgument naming it), InvalidArgument for options that do not fit (bare weights
  // without `model` or `stats`, a crop larger than the resize, a bad device name), reading errors
  // of `stats` and `synset_mapping` naming the file, FailedPrecondition for CUDA asked of a
  // machine without it.
  static absl::StatusOr<std::unique_ptr<Predictor>> Create(const PredictorOptions& options);

  // Decodes and transforms each encoded image (JPEG or PNG bytes; decoding on up to
  // options.threads threads) and runs them through the model as one batch; answers in the order
  // of `encoded`, each with min(k, classes().size()) classes. An image that cannot be decoded or
  // is refused for its size (see Check) gets InvalidArgument (ResourceExhausted if memory ran
  // out) and the others are answered; k < 1 is InvalidArgument for every image, and a failure of
  // the model itself (say, out of device memory) every decoded image's Internal or
  // ResourceExhausted. The batch's memory grows with encoded.size():
  // callers bound it (serve by its batch size, predict by --batch_size).
  std::vector<absl::StatusOr<TopK>> Predict(const std::vector<absl::string_view>& encoded, int k);

  // What Predict would refuse an image for, from its header alone (cheap: no pixel is decoded):
  // InvalidArgument for an unknown format, a corrupt header, more pixels than max_pixels(), or a
  // shape whose resize would break lib/image's size bounds. OK does not promise the image decodes.
  absl::Status Check(absl::string_view encoded) const;

  const std::vector<ClassLabel>& classes() const { return classes_; }
  // The evaluation transform in use: transform().size is the model's input side; the shorter
  // side is resized to transform().resize_shorter when > 0, else floor(size / crop_ratio).
  const EvalTransformOptions& transform() const { return transform_; }
  int64_t max_pixels() const { return transform_.decode.max_pixels; }
  torch::Device device() const { return normalizer_.device(); }

 private:
  Predictor(ResNet model, Normalizer normalizer, std::vector<ClassLabel> classes, EvalTransformOptions transform,
            AutocastMode autocast, bool channels_last, int threads);

  // Predict's work on a batch of decoded images; may throw (LibTorch).
  std::vector<absl::StatusOr<TopK>> Forward(const torch::Tensor& images, const std::vector<absl::Status>& decoded,
                                            int k);

  std::mutex mutex_;  // held by Predict around Forward: one batch on the model at a time
  ResNet model_;
  const Normalizer normalizer_;
  const std::vector<ClassLabel> classes_;
  const EvalTransformOptions transform_;
  const AutocastMode autocast_;
  const bool channels_last_;
  const int threads_;
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_PREDICTOR_H_
