// serve: answers "what is in this image?" over HTTP, with a web page at /.

#include <signal.h>

#include <gflags/gflags.h>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/engine/trained_model.h"
#include "lib/util/exit_code.h"
#include "lib/util/memory.h"
#include "lib/util/stop_signals.h"
#include "lib/util/tool_init.h"
#include "tools/serve/serve.h"

DEFINE_string(checkpoint, "",
              "Checkpoint written by train, safetensors (export's, or PyTorch's with --model and --stats), or bare "
              "weights (then --model and --stats). Required.");
DEFINE_string(weights, "model",
              "model: the checkpoint's weights; ema: their moving average (a run with config ema).");
DEFINE_string(model, "", "Model name for bare weights and PyTorch's safetensors, e.g. resnet50.");
DEFINE_string(stats, "", "Channel statistics; default: those stored in the checkpoint.");
DEFINE_string(synset_mapping, "", "LOC_synset_mapping.txt, for the classes' names (default: their WNIDs).");
DEFINE_int32(resize_shorter, 0, "Resize the shorter side to this before the crop; 0: as the run evaluated.");
DEFINE_int32(center_crop, 0, "Square center crop the model sees; 0: as the run evaluated (224 if not stored).");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present.");
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
DEFINE_int32(threads, 0, "Decoding threads per batch; 0: one per core.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();  // each batch's activations reused, not page-faulted in again
  forge::InitTool(
      "Serves a model over HTTP: POST an image to /v1/predict, or open / in a browser.\n"
      "  serve --checkpoint=runs/r50/checkpoints/best.ckpt --synset_mapping=LOC_synset_mapping.txt --port=8080\n"
      "SIGTERM or SIGINT stop it after the requests in progress are answered (exit 0).",
      &argc, &argv);
  if (FLAGS_checkpoint.empty()) return forge::ExitWithUsageError("--checkpoint is required");
  absl::StatusOr<forge::Weights> weights = forge::ParseWeights(FLAGS_weights);
  if (!weights.ok()) return forge::ExitWithUsageError(std::string(weights.status().message()));
  if (FLAGS_max_pixels < 1) return forge::ExitWithUsageError("--max_pixels must be at least 1");
  if (!(FLAGS_batch_window_ms >= 0 && FLAGS_batch_window_ms <= 10000)) {
    return forge::ExitWithUsageError("--batch_window_ms must be in 0..10000");
  }
  forge::InstallStopSignalHandlers("serve");
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up is the connection's error, not the server's

  forge::ServeToolOptions options;
  options.predictor.weights_path = FLAGS_checkpoint;
  options.predictor.weights = *weights;
  options.predictor.model = FLAGS_model;
  options.predictor.stats = FLAGS_stats;
  options.predictor.synset_mapping = FLAGS_synset_mapping;
  options.predictor.resize_shorter = FLAGS_resize_shorter;
  options.predictor.center_crop = FLAGS_center_crop;
  options.predictor.device = FLAGS_device;
  options.predictor.threads = FLAGS_threads;
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
