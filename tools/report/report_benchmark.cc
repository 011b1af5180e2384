// Times `report` on a full-size run: a 100-epoch log with train, val and val_ema rows and 100k
// step points, a 1000-class eval (1M-cell confusion matrix) with a synset mapping, an LR range
// test and a ResNet-50-sized model summary. Inputs are generated (deterministically) into
// --dir, so the binary can be timed on them too:
//
//   bazel run -c opt //tools/report:report_benchmark -- --dir=/tmp/report_bench
//   cd /tmp/report_bench && time ~-/bazel-bin/tools/report/report --run_dir=run
//       --eval=eval.pb --lr_curve=lr_curve.pb --synset_mapping=synset_mapping.txt
//       --readme=README.md          (one command line)
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "proto/eval.pb.h"
#include "proto/lr_curve.pb.h"
#include "proto/model_summary.pb.h"
#include "proto/train_log.pb.h"
#include "tools/report/report.h"

DEFINE_string(dir, "/tmp/report_benchmark", "Where the generated inputs and the report go.");
DEFINE_int32(epochs, 100, "Epochs in the train log.");
DEFINE_int32(steps, 100000, "Step points in the train log.");
DEFINE_int32(classes, 1000, "Classes of the eval.");
DEFINE_int32(repeats, 5, "Timed runs of the report.");

namespace forge {
namespace {

absl::Status WriteInputs(const std::string& dir) {
  std::mt19937_64 random(2024);
  std::uniform_real_distribution<double> noise(-1, 1);
  std::filesystem::create_directories(dir + "/run");

  TrainLog log;
  log.set_run_name("benchmark");
  log.set_model("resnet50");
  log.set_total_epochs(FLAGS_epochs);
  log.set_batch_size(1024);
  log.set_device("cuda x8");
  const double peak_lr = 0.4;
  auto lr_at = [&](double epoch) {  // one-cycle: linear warm-up, cosine decay
    const double warm = 0.25 * FLAGS_epochs;
    return epoch < warm ? peak_lr * epoch / warm
                        : peak_lr * 0.5 * (1 + std::cos(M_PI * (epoch - warm) / (FLAGS_epochs - warm)));
  };
  for (int epoch = 1; epoch <= FLAGS_epochs; ++epoch) {
    const double progress = static_cast<double>(epoch) / FLAGS_epochs;
    for (const char* phase : {"train", "val", "val_ema"}) {
      EpochMetrics* row = log.add_epochs();
      row->set_epoch(epoch);
      row->set_phase(phase);
      const double shift = std::string(phase) == "train" ? 0 : -0.2;
      row->set_loss(6.9 * std::exp(-3 * progress) + 1 + shift + 0.02 * noise(random));
      row->set_top1(77 * (1 - std::exp(-4 * progress)) + 0.3 * noise(random));
      row->set_top5(93 * (1 - std::exp(-5 * progress)) + 0.2 * noise(random));
      row->set_lr(lr_at(epoch));
      row->set_images_per_sec(std::string(phase) == "train" ? 2470 + 20 * noise(random) : 9000);
      row->set_seconds(std::string(phase) == "train" ? 518 : 6);
      row->set_images(std::string(phase) == "train" ? 1281167 : 50000);
      row->set_step(epoch * 1251);
    }
  }
  for (int i = 0; i < FLAGS_steps; ++i) {
    StepPoint* step = log.add_steps();
    const double epoch = static_cast<double>(i) * FLAGS_epochs / FLAGS_steps;
    step->set_step(static_cast<int64_t>(epoch * 1251));
    step->set_epoch(epoch);
    step->set_lr(lr_at(epoch));
    step->set_loss(6.9 * std::exp(-3 * epoch / FLAGS_epochs) + 1.2 + 0.3 * noise(random));
  }
  log.set_total_seconds(FLAGS_epochs * 530.0);
  if (absl::Status s = WriteProtoFile(dir + "/run/train_log.pb", log); !s.ok()) return s;

  EvalResult eval;
  const int n = FLAGS_classes;
  std::string mapping;
  for (int c = 0; c < n; ++c) {
    ClassInfo* info = eval.add_classes();
    info->set_index(c);
    info->set_wnid(absl::StrFormat("n%08d", 1440764 + 1000 * c));  // a WNID: n + 8 digits
    info->set_name(c % 500 == 1 ? "crane" : absl::StrCat("class ", c));
    absl::StrAppend(&mapping, info->wnid(), " ", info->name(), ", synonym ", c, "\n");
  }
  std::vector<int64_t> confusion(static_cast<size_t>(n) * n, 0);
  std::uniform_int_distribution<int> any_class(0, n - 1);
  int64_t correct = 0;
  for (int row = 0; row < n; ++row) {
    for (int image = 0; image < 50; ++image) {
      const int predicted = image < 38 ? row : any_class(random);
      ++confusion[static_cast<size_t>(row) * n + predicted];
      correct += predicted == row;
    }
  }
  for (int64_t count : confusion) eval.add_confusion(count);
  eval.set_images(50LL * n);
  eval.set_top1(100.0 * correct / (50.0 * n));
  eval.set_top5(93.1);
  eval.set_loss(0.95);
  if (absl::Status s = WriteProtoFile(dir + "/eval.pb", eval); !s.ok()) return s;
  if (absl::Status s = WriteFileAtomically(dir + "/synset_mapping.txt", mapping); !s.ok()) return s;

  LrCurve curve;
  double smoothed = 0;
  for (int i = 0; i < 500; ++i) {
    LrPoint* point = curve.add_points();
    point->set_step(i);
    point->set_lr(1e-7 * std::pow(10.0, 8.0 * i / 499));
    const double x = std::log10(point->lr());
    point->set_loss(6.9 - 2.5 / (1 + std::exp(-(x + 2.5) * 2)) + (x > -0.5 ? 10 * (x + 0.5) * (x + 0.5) : 0) +
                    0.1 * noise(random));
    smoothed = 0.95 * smoothed + 0.05 * point->loss();
    point->set_smoothed_loss(smoothed / (1 - std::pow(0.95, i + 1)));
  }
  curve.set_suggested_lr(3e-3);
  curve.set_min_loss_lr(0.1);
  curve.set_min_loss_lr_div10(0.01);
  if (absl::Status s = WriteProtoFile(dir + "/lr_curve.pb", curve); !s.ok()) return s;

  ModelSummary model;
  model.set_model("resnet50");
  for (int64_t d : {1, 3, 224, 224}) model.add_input_shape(d);
  for (int i = 0; i < 170; ++i) {
    LayerSummary* layer = model.add_layers();
    layer->set_name(absl::StrCat("layer", i / 40 + 1, ".", i % 40 / 10, ".conv", i % 10));
    layer->set_type(i % 3 == 0 ? "Conv2d" : (i % 3 == 1 ? "BatchNorm2d" : "ReLU"));
    for (int64_t d : {1, 256, 56, 56}) layer->add_output_shape(d);
    layer->set_parameters(i % 3 == 0 ? 147456 : (i % 3 == 1 ? 512 : 0));
    layer->set_depth(i % 3);
  }
  model.set_total_parameters(25557032);
  model.set_trainable_parameters(25557032);
  if (absl::Status s = WriteProtoFile(dir + "/run/model_summary.txtpb", model); !s.ok()) return s;
  return WriteFileAtomically(dir + "/run/config.txtpb", "model: \"resnet50\"\nepochs: 100\n");
}

int Main() {
  const std::string dir = FLAGS_dir;
  if (absl::Status status = WriteInputs(dir); !status.ok()) {
    std::fprintf(stderr, "report_benchmark: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  ReportOptions options;
  options.run_dir = dir + "/run";
  options.eval = dir + "/eval.pb";
  options.lr_curve = dir + "/lr_curve.pb";
  options.synset_mapping = dir + "/synset_mapping.txt";
  options.readme = dir + "/README.md";
  std::vector<double> seconds;
  for (int i = 0; i < FLAGS_repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ReportResult> result = RunReport(options);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!result.ok()) {
      std::fprintf(stderr, "report_benchmark: %s\n", std::string(result.status().message()).c_str());
      return 1;
    }
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "report_benchmark: epochs=%d phases=3 steps=%d classes=%d cells=%lld runs=%d min=%.3fs "
      "median=%.3fs max=%.3fs dir=%s\n",
      FLAGS_epochs, FLAGS_steps, FLAGS_classes, static_cast<long long>(FLAGS_classes) * FLAGS_classes,
      FLAGS_repeats, seconds.front(), seconds[seconds.size() / 2], seconds.back(), dir.c_str());
  return 0;
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return forge::Main();
}
