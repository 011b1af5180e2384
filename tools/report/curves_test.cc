#include "tools/report/curves.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

TrainLog Parse(const std::string& text) {
  TrainLog log;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &log)) << text;
  return log;
}

TEST(CurvesTest, EmptyLogHasNoData) {
  const TrainLog log;
  EXPECT_FALSE(LossPlot(log).HasData());
  EXPECT_FALSE(AccuracyPlot(log).HasData());
  EXPECT_FALSE(LrPlot(log).HasData());
  EXPECT_FALSE(ThroughputPlot(log).HasData());
}

TEST(CurvesTest, ThroughputIgnoresZeroRatesAndValRows) {
  TrainLog log = Parse(R"pb(epochs { epoch: 1 phase: "train" images_per_sec: 0 }
                            epochs { epoch: 1 phase: "val" images_per_sec: 900 })pb");
  EXPECT_FALSE(ThroughputPlot(log).HasData());
  EXPECT_TRUE(LrPlot(log).HasData()) << "the per-epoch lr (0) is still a value";
  log.mutable_epochs(0)->set_images_per_sec(120);
  EXPECT_TRUE(ThroughputPlot(log).HasData());
}

TEST(CurvesTest, AllFiguresRenderDeterministically) {
  TrainLog log = Parse(R"pb(epochs { epoch: 1 phase: "train" loss: 3 top1: 20 top5: 40 lr: 0.1 images_per_sec: 100 }
                            epochs { epoch: 1 phase: "val" loss: 2.5 top1: 25 top5: 45 }
                            epochs { epoch: 2 phase: "train" loss: 2 top1: 40 top5: 65 lr: 0.01 images_per_sec: 110 }
                            epochs { epoch: 2 phase: "val" loss: 1.9 top1: 42 top5: 70 }
                            steps { step: 1 epoch: 0.5 lr: 0.2 loss: 3.2 }
                            steps { step: 2 epoch: 1.5 lr: 0.05 loss: 2.2 })pb");
  LrCurve curve;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(points { lr: 1e-5 loss: 7 smoothed_loss: 7 }
           points { lr: 1e-3 loss: 5 smoothed_loss: 6 }
           points { lr: 1e-1 loss: 4 smoothed_loss: 4.5 }
           points { lr: 1 loss: 30 smoothed_loss: 12 }
           suggested_lr: 1e-3 min_loss_lr_div10: 1e-2)pb",
      &curve));
  for (const LinePlot& plot : {LossPlot(log), AccuracyPlot(log), LrPlot(log), ThroughputPlot(log),
                               LrRangePlot(curve)}) {
    ASSERT_TRUE(plot.HasData());
    absl::StatusOr<std::string> first = plot.RenderPng(640, 400);
    absl::StatusOr<std::string> second = plot.RenderPng(640, 400);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*first, *second);
  }
}

}  // namespace
}  // namespace forge
