#include "lib/util/progress.h"

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace forge {
namespace {

ProgressOptions Options(bool interactive, FILE* out = stderr) {
  ProgressOptions options;
  options.interactive = interactive;
  options.interval_seconds = 0;
  options.out = out;
  return options;
}

std::string Contents(FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  return text;
}

TEST(FormatProgressTest, LogLineHasCountPercentRateAndEta) {
  EXPECT_EQ(FormatProgress("stats", 250, 1000, 5.0, Options(false)),
            "stats: 250/1000 (25%) 50.0 img/s ETA 0:15");
}

TEST(FormatProgressTest, TerminalLineHasBar) {
  EXPECT_EQ(FormatProgress("stats", 500, 1000, 10.0, Options(true)),
            "stats [############            ] 500/1000 50% 50.0 img/s ETA 0:10");
}

TEST(FormatProgressTest, FinishedAndUnknownTotals) {
  EXPECT_EQ(FormatProgress("x", 1000, 1000, 3725.0, Options(false)),
            "x: 1000/1000 (100%) 0.3 img/s in 1:02:05");
  EXPECT_EQ(FormatProgress("x", 42, 0, 2.0, Options(false)), "x: 42 21.0 img/s in 0:02");
  EXPECT_EQ(FormatProgress("x", 0, 10, 0.0, Options(false)), "x: 0/10 (0%) 0.0 img/s ETA ?");
}

TEST(ProgressBarTest, CountsFromManyThreadsAndReportsOnce) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressOptions options = Options(false, out);
    options.interval_seconds = 3600;  // only the final report
    ProgressBar progress("work", 4000, options);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&progress] {
        for (int i = 0; i < 1000; ++i) progress.Add();
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(progress.done(), 4000);
    progress.Finish();
    progress.Finish();  // idempotent
  }
  const std::string text = Contents(out);
  EXPECT_EQ(text.rfind("work: 4000/4000 (100%)", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  std::fclose(out);
}

TEST(ProgressBarTest, NoteFollowsTheRate) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar progress("train", 2, Options(false, out));
    progress.SetNote("loss 2.31");
    progress.Add(2);
  }
  const std::string text = Contents(out);
  EXPECT_NE(text.find("img/s in 0:00 loss 2.31\n"), std::string::npos) << text;
  std::fclose(out);
}

TEST(ProgressBarTest, TerminalRedrawsInPlace) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar progress("bar", 3, Options(true, out));
    progress.Add();
    progress.Add();
    progress.Add();
  }
  const std::string text = Contents(out);
  EXPECT_GE(std::count(text.begin(), text.end(), '\r'), 2) << text;
  EXPECT_EQ(text.back(), '\n');
  std::fclose(out);
}

}  // namespace
}  // namespace forge
