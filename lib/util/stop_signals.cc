#include "lib/util/stop_signals.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace forge {
namespace {

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};
std::atomic<int64_t> first_signal_ns{0};     // CLOCK_MONOTONIC of the first signal
std::atomic<int64_t> repeat_window_ns{0};
const char* program_name = "";

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGUSR1};

const char* SignalName(int signal_number) {
  return signal_number == SIGTERM ? "SIGTERM" : signal_number == SIGINT ? "SIGINT" : "SIGUSR1";
}

// Async-signal-safe: only atomics, clock_gettime, strlen, write and _exit.
int64_t MonotonicNanoseconds() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

void Write(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
}

void OnStopSignal(int signal_number) {
  if (stop_requested.load() && MonotonicNanoseconds() - first_signal_ns.load() < repeat_window_ns.load()) {
    Write(program_name);
    Write(": the same stop signal again at once (passed on by a launcher?): still stopping at the next safe point\n");
    return;
  }
  if (stop_requested.exchange(true)) {
    Write(program_name);
    Write(": second stop signal: exiting now\n");
    _exit(128 + signal_number);
  }
  stop_signal.store(signal_number);
  first_signal_ns.store(MonotonicNanoseconds());
  Write(program_name);
  Write(": ");
  Write(SignalName(signal_number));
  Write(" received: stopping at the next safe point (send it again to exit at once)\n");
}

}  // namespace

void InstallStopSignalHandlers(const char* program) {
  program_name = program;
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal_number : kStopSignals) sigaction(signal_number, &action, nullptr);
}

bool StopRequested() { return stop_requested.load(); }

int StopSignal() { return stop_signal.load(); }

const char* StopSignalName() {
  const int signal_number = stop_signal.load();
  return signal_number == 0 ? "a stop request" : SignalName(signal_number);
}

void RequestStop() { stop_requested.store(true); }

void ClearStopRequest() {
  stop_requested.store(false);
  stop_signal.store(0);
  first_signal_ns.store(0);
}

void IgnoreRepeatsWithin(double seconds) { repeat_window_ns.store(static_cast<int64_t>(seconds * 1e9)); }

}  // namespace forge
