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

// A launcher passing on the signal its process also got: the repeat is ignored within the
// window, and a signal after it still exits at once.
TEST(StopSignalsTest, ARepeatWithinTheWindowIsTheSameRequest) {
  for (const bool wait_past_window : {false, true}) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      InstallStopSignalHandlers("child");
      IgnoreRepeatsWithin(0.5);
      raise(SIGTERM);
      if (wait_past_window) usleep(700 * 1000);
      raise(SIGTERM);
      _exit(StopRequested() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), wait_past_window ? 128 + SIGTERM : 0);
  }
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
