// Graceful stops for long-running tools (train): SIGTERM (spot preemption, `kill`, systemd),
// SIGINT (Ctrl-C) and SIGUSR1 (batch schedulers' "time is nearly up") ask the program to stop at
// its next safe point; a second such signal ends the process at once with exit code
// 128 + signal number, as the shell reports a process killed by it.
//
//   InstallStopSignalHandlers("train");
//   for (...) {
//     TrainStep();
//     if (StopRequested()) return SaveCheckpointAndStop();
//   }
#ifndef FORGE_LIB_UTIL_STOP_SIGNALS_H_
#define FORGE_LIB_UTIL_STOP_SIGNALS_H_

namespace forge {

// Installs the handlers (replacing any others for these signals, glog's included). The first
// signal writes "<program>: <SIGNAL> received: stopping at the next safe point (send it again
// to exit at once)" to stderr. Call once, early, from the main thread.
void InstallStopSignalHandlers(const char* program);

// True once a stop signal arrived (or RequestStop was called).
bool StopRequested();

// The signal that asked to stop (e.g. SIGTERM), 0 if none or RequestStop.
int StopSignal();

// "SIGTERM", "SIGINT" or "SIGUSR1" for StopSignal(), "a stop request" when it is 0.
const char* StopSignalName();

// Asks to stop as a first signal would, without a signal (tests; programs' own reasons).
void RequestStop();

// Forgets a stop request, so that one process can run several stoppable jobs (tests).
void ClearStopRequest();

// Takes a second stop signal that comes within `seconds` of the first for the same request
// delivered twice, and ignores it (saying so on stderr): in a job, a launcher passes on to its
// processes the signal they may also have received themselves (torchrun under SLURM). A second
// signal after that still exits at once. 0, the default: every second signal exits.
void IgnoreRepeatsWithin(double seconds);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_STOP_SIGNALS_H_
