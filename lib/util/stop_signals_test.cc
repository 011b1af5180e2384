#include "lib/util/stop_signals.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(StopSignalsTest, FirstSignalRequestsAStop) {
  InstallStopSignalHandlers("stop_signals_test");
  for (int signal_number : {SIGTERM, SIGINT, SIGUSR1}) {
    ClearStopRequest();
    EXPECT_FALSE(StopRequested());
    ASSERT_EQ(raise(signal_number), 0);
    EXPECT_TRUE(StopRequested());
    EXPECT_EQ(StopSignal(), signal_number);
  }
  EXPECT_STREQ(StopSignalName(), "SIGUSR1");
  ClearStopRequest();
}

TEST(StopSignalsTest, SecondSignalExitsAtOnceWith128PlusSignal) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    InstallStopSignalHandlers("child");
    raise(SIGTERM);
    raise(SIGTERM);
    _exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
}

TEST(StopSignalsTest, RequestStopWithoutASignal) {
  ClearStopRequest();
  RequestStop();
  EXPECT_TRUE(StopRequested());
  EXPECT_EQ(StopSignal(), 0);
  EXPECT_STREQ(StopSignalName(), "a stop request");
  ClearStopRequest();
}

}  // namespace
}  // namespace forge
