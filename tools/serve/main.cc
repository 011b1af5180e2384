// serve: answers "what is in this image?" over HTTP, with a web page at /.

#include <signal.h>

#include <gflags/gflags.h>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/util/exit_code.h"
#include "lib/util/memory.h"
#include "lib/util/stop_signals.h"
#include "lib/util/tool_init.h"
#include "lib/engine/predictor_flags.h"
#include "tools/serve/serve.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on: 127.0.0.1 serves this machine only, 0.0.0.0 every network.");
DEFINE_int32(port, 8080, "Port to listen on; 0: any free port (the log says which).");
DEFINE_int64(max_body_bytes, 16 << 20, "Larger request bodies are refused (413) before they are read.");
DEFINE_int64(max_pixels, 25000000, "Images with more pixels are refused (413) from their header, before decoding.");
DEFINE_int32(max_concurrent, 64, "Predictions in flight at once; more are refused (503, Retry-After).");
DEFINE_double(batch_window_ms, 5,
              "How long a batch waits for more images after its first one while another batch runs (an idle "
              "model takes the waiting images at once).");
DEFINE_int32(max_batch, 32, "Images per batch at most.");
DEFINE_int32(batch_workers, 2, "Batches in flight at once: 2 decodes one while the other runs on the model.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();  // each batch's activations reused, not page-faulted in again
  forge::InitTool(
      "Serves a model over HTTP: POST an image to /v1/predict, or open / in a browser.\n"
      "  serve --checkpoint=runs/r50/checkpoints/best.ckpt --synset_mapping=LOC_synset_mapping.txt --port=8080\n"
      "SIGTERM or SIGINT stop it after the requests in progress are answered (exit 0).",
      &argc, &argv);
  absl::StatusOr<forge::PredictorOptions> predictor = forge::PredictorOptionsFromFlags();
  if (!predictor.ok()) return forge::ExitWithUsageError(predictor.status().message());
  if (FLAGS_max_pixels < 1) return forge::ExitWithUsageError("--max_pixels must be at least 1");
  if (!(FLAGS_batch_window_ms >= 0 && FLAGS_batch_window_ms <= 10000)) {
    return forge::ExitWithUsageError("--batch_window_ms must be in 0..10000");
  }
  forge::InstallStopSignalHandlers("serve");
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up is the connection's error, not the server's

  forge::ServeToolOptions options;
  options.predictor = *predictor;
  options.predictor.max_pixels = FLAGS_max_pixels;
  options.server.host = FLAGS_host;
  options.server.port = FLAGS_port;
  options.server.max_body_bytes = FLAGS_max_body_bytes;
  options.server.max_concurrent = FLAGS_max_concurrent;
  options.server.batching.max_batch = FLAGS_max_batch;
  options.server.batching.workers = FLAGS_batch_workers;
  options.server.batching.window = absl::Microseconds(FLAGS_batch_window_ms * 1000);
  absl::StatusOr<forge::ServerStats> stats = forge::RunServe(options);
  if (!stats.ok()) return forge::ExitWithError(stats.status());
  return forge::ExitWithSummary(absl::StrFormat(
      "serve: answered=%d refused=%d busy=%d batches=%d largest_batch=%d stopped_by=%s", stats->answered,
      stats->refused, stats->busy, stats->batcher.batches, stats->batcher.largest_batch, forge::StopSignalName()));
}
