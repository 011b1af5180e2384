// Runs the serve binary itself: it answers on the port it logs, stops cleanly on SIGTERM with
// its summary, and refuses bad usage.
#include <signal.h>

#include <httplib.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"
#include "tools/serve/serve_testing.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

const ServeTestInputs& Inputs() {
  static const ServeTestInputs* inputs = [] {
    absl::StatusOr<ServeTestInputs> written = WriteServeTestInputs(testdata::NewScratchDir("inputs"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new ServeTestInputs(written.ok() ? *written : ServeTestInputs{});
  }();
  return *inputs;
}

std::string ModelFlags() {
  return absl::StrCat("--device=cpu --checkpoint=", Inputs().predictor.weights_path,
                      " --synset_mapping=", Inputs().predictor.synset_mapping, " --resize_shorter=37 --center_crop=32");
}

TEST(MainTest, ServesOnTheLoggedPortAndStopsCleanlyOnSigterm) {
  const std::string dir = testdata::NewScratchDir();
  const std::string log = dir + "/serve.log";
  pid_t pid = testdata::StartProcess({testdata::Runfile("tools/serve/serve"), "--device=cpu", "--port=0",
                                      "--checkpoint=" + Inputs().predictor.weights_path,
                                      "--synset_mapping=" + Inputs().predictor.synset_mapping,
                                      "--resize_shorter=37", "--center_crop=32"},
                                     log);
  // The port it chose, from its log line "... on http://127.0.0.1:PORT/" (at most 60 s).
  int port = 0;
  const std::string marker = "on http://127.0.0.1:";
  for (int tries = 0; tries < 3000 && port == 0; ++tries) {
    const std::string text = testdata::ReadText(log);
    const size_t at = text.find(marker);
    const size_t end = at == std::string::npos ? at : text.find('/', at + marker.size());
    if (end != std::string::npos) {
      ASSERT_TRUE(absl::SimpleAtoi(text.substr(at + marker.size(), end - at - marker.size()), &port)) << text;
    }
    int code = 0;
    ASSERT_FALSE(testdata::ProcessEnded(pid, &code)) << "exited with " << code << ": " << text;
    if (port == 0) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(port, 0) << testdata::ReadText(log);

  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60);
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_THAT(health->body, HasSubstr("\"model\": \"resnet18\""));
  httplib::Result answer = client.Post("/v1/predict?k=2", Inputs().images[0], "image/jpeg");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200) << answer->body;

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(testdata::WaitForProcess(pid), 0) << testdata::ReadText(log);
  const std::string text = testdata::ReadText(log);
  EXPECT_THAT(text, HasSubstr("SIGTERM received"));
  EXPECT_THAT(text, HasSubstr("serve: answered=1 refused=0 busy=0 batches=1 largest_batch=1 stopped_by=SIGTERM"));
}

TEST(MainTest, BadUsageExitsWithTwo) {
  const std::string scratch = ::testing::TempDir();
  testdata::ToolResult result = testdata::RunTool("tools/serve/serve", "--port=0", scratch);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--checkpoint"));
  EXPECT_EQ(testdata::RunTool("tools/serve/serve", ModelFlags() + " --weights=best", scratch).exit_code, 2);
  EXPECT_EQ(testdata::RunTool("tools/serve/serve", ModelFlags() + " --max_pixels=0", scratch).exit_code, 2);
  EXPECT_EQ(testdata::RunTool("tools/serve/serve", ModelFlags() + " --port=70000", scratch).exit_code, 2);
  EXPECT_EQ(testdata::RunTool("tools/serve/serve", ModelFlags() + " stray", scratch).exit_code, 2);
  result = testdata::RunTool("tools/serve/serve", "--device=cpu --checkpoint=/nonexistent/best.ckpt", scratch);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("/nonexistent/best.ckpt"));
}

}  // namespace
}  // namespace forge
