#include "tools/report/train_log_tables.h"

#include <google/protobuf/text_format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;

TrainLog Parse(const std::string& text) {
  TrainLog log;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &log)) << text;
  return log;
}

// Epoch 2 was logged twice (a resume); phases arrive out of order.
const char kResumedLog[] = R"pb(
  total_epochs: 4
  epochs { epoch: 1 phase: "val" loss: 2.5 top1: 40 top5: 70 lr: 0.1 images_per_sec: 900 seconds: 5 }
  epochs { epoch: 1 phase: "train" loss: 3 top1: 30 top5: 60 lr: 0.1 images_per_sec: 100 seconds: 50 }
  epochs { epoch: 2 phase: "train" loss: 9 top1: 1 top5: 2 lr: 0.7 images_per_sec: 10 }
  epochs { epoch: 2 phase: "val" loss: 9 top1: 1 top5: 2 }
  epochs { epoch: 2 phase: "train" loss: 2 top1: 45.5 top5: 75 lr: 0.05 images_per_sec: 110 seconds: 49 }
  epochs { epoch: 2 phase: "val_ema" loss: 2.2 top1: 47 top5: 78 }
  epochs { epoch: 2 phase: "val" loss: 1.5 top1: 50.125 top5: 80 lr: 0.05 images_per_sec: 950 seconds: 4 }
  epochs { epoch: 3 phase: "train" loss: 1.75 top1: 55 top5: 82 lr: 1e-05 images_per_sec: 0 seconds: 48 }
  epochs { epoch: 3 phase: "val" loss: 1.25 top1: 50.125 top5: 81 lr: 1e-05 seconds: 4 }
  steps { step: 20 lr: 0.2 }
  steps { step: 10 lr: 0.1 }
  steps { step: 20 lr: 0.3 }
)pb";

TEST(NormalizeTrainLogTest, LastRowOfEachEpochAndPhaseWinsInOrder) {
  const TrainLog log = NormalizeTrainLog(Parse(kResumedLog));
  ASSERT_EQ(log.epochs_size(), 7);
  std::vector<std::string> order;
  for (const EpochMetrics& row : log.epochs()) order.push_back(absl::StrCat(row.epoch(), row.phase()));
  EXPECT_THAT(order, ::testing::ElementsAre("1train", "1val", "2train", "2val", "2val_ema", "3train", "3val"));
  EXPECT_EQ(log.epochs(2).loss(), 2);
  EXPECT_EQ(log.epochs(3).top1(), 50.125);
  ASSERT_EQ(log.steps_size(), 2);
  EXPECT_EQ(log.steps(0).step(), 10);
  EXPECT_EQ(log.steps(1).lr(), 0.3);
  EXPECT_EQ(log.total_epochs(), 4);
}

TEST(TrainLogCsvTest, ExactColumnsTrainAndValOnly) {
  EXPECT_EQ(TrainLogCsv(NormalizeTrainLog(Parse(kResumedLog))),
            "epoch,phase,loss,top1,top5,lr,imgs_per_sec\n"
            "1,train,3,30,60,0.1,100\n"
            "1,val,2.5,40,70,0.1,900\n"
            "2,train,2,45.5,75,0.05,110\n"
            "2,val,1.5,50.125,80,0.05,950\n"
            "3,train,1.75,55,82,1e-05,0\n"
            "3,val,1.25,50.125,81,1e-05,0\n");
}

TEST(TrainLogFullCsvTest, EveryPhaseAndEveryField) {
  const std::string csv = TrainLogFullCsv(NormalizeTrainLog(Parse(kResumedLog)));
  EXPECT_THAT(csv, ::testing::StartsWith(
                       "epoch,phase,loss,top1,top5,lr,images_per_sec,data_wait_fraction,seconds,"
                       "peak_memory_bytes,images,step\n"
                       "1,train,3,30,60,0.1,100,0,50,0,0,0\n"));
  EXPECT_THAT(csv, HasSubstr("\n2,val_ema,2.2,47,78,0,0,0,0,0,0,0\n"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8);
}

TEST(SummarizeTrainLogTest, BestEpochEarliestOnTies) {
  const TrainLog log = NormalizeTrainLog(Parse(kResumedLog));
  const TrainSummary summary = SummarizeTrainLog(log);
  EXPECT_EQ(summary.epochs, 3);
  EXPECT_EQ(summary.last_epoch, 3);
  ASSERT_TRUE(summary.best_val_top1.has_value());
  EXPECT_EQ(summary.best_val_top1->epoch(), 2);
  ASSERT_TRUE(summary.best_val_top5.has_value());
  EXPECT_EQ(summary.best_val_top5->epoch(), 3);
  ASSERT_TRUE(summary.best_ema_top1.has_value());
  EXPECT_EQ(summary.best_ema_top1->epoch(), 2);
  ASSERT_TRUE(summary.final_val.has_value());
  EXPECT_EQ(summary.final_val->epoch(), 3);
  EXPECT_FALSE(summary.final_ema.has_value());
  EXPECT_DOUBLE_EQ(summary.total_seconds, 50 + 5 + 49 + 4 + 48 + 4);  // no total_seconds logged
  EXPECT_EQ(summary.train_rate_epochs, 2);
  EXPECT_DOUBLE_EQ(summary.mean_train_images_per_sec, 105);
  EXPECT_DOUBLE_EQ(summary.last_train_images_per_sec, 110);

  EXPECT_EQ(HeadlineMarkdown(log, summary),
            "Best val top-1 **50.12%** at epoch 2 (top-5 80.00%); best val top-5 81.00% at epoch 3; "
            "final (epoch 3) top-1 50.12%, top-5 81.00%; best EMA top-1 47.00% at epoch 2; "
            "3 epochs of 4 in 2m 40s.");
}

TEST(EpochTableMarkdownTest, OneRowPerEpochBestInBold) {
  const TrainLog log = NormalizeTrainLog(Parse(kResumedLog));
  EXPECT_EQ(EpochTableMarkdown(log, SummarizeTrainLog(log)),
            "| epoch | train loss | train top-1 | train top-5 | val loss | val top-1 | val top-5 | EMA loss | EMA top-1 | EMA top-5 |   lr | img/s |  time |\n"
            "| ----: | ---------: | ----------: | ----------: | -------: | --------: | --------: | -------: | --------: | --------: | ---: | ----: | ----: |\n"
            "|     1 |     3.0000 |       30.00 |       60.00 |   2.5000 |     40.00 |     70.00 |        - |         - |         - |  0.1 | 100.0 | 55.0s |\n"
            "|     2 |     2.0000 |       45.50 |       75.00 |   1.5000 | **50.12** |     80.00 |   2.2000 |     47.00 |     78.00 | 0.05 | 110.0 | 53.0s |\n"
            "|     3 |     1.7500 |       55.00 |       82.00 |   1.2500 |     50.12 |     81.00 |        - |         - |         - | 1e-5 |     - | 52.0s |\n");
}

TEST(TrainLogTablesTest, EmptyLog) {
  const TrainLog log;
  const TrainSummary summary = SummarizeTrainLog(log);
  EXPECT_EQ(TrainLogCsv(log), "epoch,phase,loss,top1,top5,lr,imgs_per_sec\n");
  EXPECT_EQ(HeadlineMarkdown(log, summary), "No epoch logged yet.");
  EXPECT_THAT(SummaryMarkdown(log, summary), HasSubstr("no val phase logged"));
}

TEST(ValidateTrainLogTest, NamesFileAndRow) {
  absl::Status status = ValidateTrainLog(Parse(R"pb(epochs { epoch: 1 phase: "train" }
                                                     epochs { epoch: 0 phase: "val" })pb"),
                                         "run/train_log.pb");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("run/train_log.pb: epochs[1] has epoch 0"));
  status = ValidateTrainLog(Parse(R"pb(epochs { epoch: 2 })pb"), "run/train_log.pb");
  EXPECT_THAT(status.message(), HasSubstr("epochs[0] (epoch 2) has no phase"));
  EXPECT_TRUE(ValidateTrainLog(Parse(kResumedLog), "x").ok());
}

}  // namespace
}  // namespace forge
