#include "lib/train/checkpoint.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>

#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/io/file.h"
#include "lib/records/record_writer.h"
#include "lib/train/torch_archive_testing.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

// A tiny network with everything a ResNet's state has: conv and linear weights, a bias, batch
// norm running statistics and num_batches_tracked, and a nested Sequential.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl(int64_t classes = 3) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(4, 6), torch::nn::ReLU(),
                                                         torch::nn::Linear(6, classes)));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn(conv(x)));
    return head->forward(x.mean({2, 3}));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Sequential head{nullptr};
};
TORCH_MODULE(TinyNet);

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }

  // `name` in a new scratch directory.
  std::string Path(const std::string& name) { return testdata::NewScratchDir() + "/" + name; }

  // One SGD or AdamW step on a fixed batch.
  static void Step(TinyNet& model, torch::optim::Optimizer& optimizer, int seed) {
    torch::manual_seed(1000 + seed);
    const torch::Tensor images = torch::randn({8, 3, 6, 6});
    const torch::Tensor labels = torch::randint(0, 3, {8});
    model->train();
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(images), labels).backward();
    optimizer.step();
  }
};

void ExpectSameTensors(const torch::OrderedDict<std::string, torch::Tensor>& expected,
                       const torch::OrderedDict<std::string, torch::Tensor>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& item : expected) {
    const torch::Tensor* other = actual.find(item.key());
    ASSERT_NE(other, nullptr) << item.key();
    EXPECT_EQ(item.value().dtype(), other->dtype()) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), other->to(item.value().device()))) << item.key();
  }
}

void ExpectSameModel(TinyNet& expected, TinyNet& actual) {
  ExpectSameTensors(expected->named_parameters(), actual->named_parameters());
  ExpectSameTensors(expected->named_buffers(), actual->named_buffers());
}

template <typename ParamState>
const ParamState& StateOf(torch::optim::Optimizer& optimizer, const torch::Tensor& parameter) {
  return static_cast<const ParamState&>(*optimizer.state().at(parameter.unsafeGetTensorImpl()));
}

std::vector<std::string> FileNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* listing = ::opendir(dir.c_str());
  while (const dirent* entry = listing ? ::readdir(listing) : nullptr) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  if (listing != nullptr) ::closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

TrainState SampleState() {
  TrainState state;
  state.set_epoch(3);
  state.set_step(123);
  state.mutable_epoch_progress()->set_loader_batches(7);
  state.set_best_top1(71.25);
  state.set_best_epoch(2);
  state.mutable_config()->set_name("tiny");
  state.mutable_config()->set_epochs(90);
  EpochMetrics* metrics = state.mutable_log()->add_epochs();
  metrics->set_epoch(3);
  metrics->set_phase("val");
  metrics->set_top1(71.25);
  state.add_grad_scaler_state(65536.0);
  state.add_grad_scaler_state(17.0);
  state.set_kind("best");
  state.add_classes("n01440764");
  state.mutable_stats()->add_mean(0.485);
  return state;
}

TEST_F(CheckpointTest, SgdRoundTripRestoresEverythingAndResumesExactly) {
  TinyNet model;
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4));
  for (int i = 0; i < 3; ++i) Step(model, optimizer, i);
  const std::string path = Path("sgd.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, &optimizer).ok());

  torch::manual_seed(99);  // different initial weights
  TinyNet restored;
  torch::optim::SGD restored_optimizer(restored->parameters(), torch::optim::SGDOptions(0.5).momentum(0.9));
  TrainState state;
  const absl::Status status = LoadCheckpoint(path, &state, *restored, &restored_optimizer);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(state.epoch(), 3);
  EXPECT_EQ(state.step(), 123);
  EXPECT_EQ(state.kind(), "best");
  EXPECT_EQ(state.format(), kCheckpointFormat);
  EXPECT_TRUE(state.has_optimizer_state());
  EXPECT_FALSE(state.has_ema());
  ExpectSameModel(model, restored);
  EXPECT_EQ(restored->bn->num_batches_tracked.item<int64_t>(), 3);
  const std::vector<torch::Tensor> parameters = model->parameters();
  const std::vector<torch::Tensor> restored_parameters = restored->parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& expected = StateOf<torch::optim::SGDParamState>(optimizer, parameters[i]);
    const auto& actual = StateOf<torch::optim::SGDParamState>(restored_optimizer, restored_parameters[i]);
    EXPECT_TRUE(torch::equal(expected.momentum_buffer(), actual.momentum_buffer())) << i;
  }
  const auto& options = static_cast<const torch::optim::SGDOptions&>(restored_optimizer.param_groups()[0].options());
  EXPECT_EQ(options.lr(), 0.1);
  EXPECT_TRUE(options.nesterov());

  // Both continue identically, bit for bit.
  Step(model, optimizer, 3);
  Step(restored, restored_optimizer, 3);
  ExpectSameModel(model, restored);
}

TEST_F(CheckpointTest, AdamWRoundTripRestoresMoments) {
  TinyNet model;
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.05));
  for (int i = 0; i < 4; ++i) Step(model, optimizer, i);
  const std::string path = Path("adamw.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, &optimizer).ok());

  torch::manual_seed(7);
  TinyNet restored;
  torch::optim::AdamW restored_optimizer(restored->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.05));
  const absl::Status status = LoadCheckpoint(path, nullptr, *restored, &restored_optimizer);
  ASSERT_TRUE(status.ok()) << status;
  ExpectSameModel(model, restored);
  const std::vector<torch::Tensor> parameters = model->parameters();
  const std::vector<torch::Tensor> restored_parameters = restored->parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& expected = StateOf<torch::optim::AdamWParamState>(optimizer, parameters[i]);
    const auto& actual = StateOf<torch::optim::AdamWParamState>(restored_optimizer, restored_parameters[i]);
    EXPECT_EQ(actual.step(), 4);
    EXPECT_TRUE(torch::equal(expected.exp_avg(), actual.exp_avg())) << i;
    EXPECT_TRUE(torch::equal(expected.exp_avg_sq(), actual.exp_avg_sq())) << i;
  }
  Step(model, optimizer, 4);
  Step(restored, restored_optimizer, 4);
  ExpectSameModel(model, restored);
}

TEST_F(CheckpointTest, LoadsIntoChannelsLastModelKeepingItsLayout) {
  TinyNet model;
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(model, optimizer, 0);
  const std::string path = Path("channels_last.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, &optimizer).ok());

  torch::manual_seed(5);
  TinyNet restored;
  for (torch::Tensor& parameter : restored->parameters()) {
    if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  ASSERT_TRUE(restored->conv->weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
  ASSERT_FALSE(restored->conv->weight.is_contiguous());
  torch::optim::SGD restored_optimizer(restored->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  ASSERT_TRUE(LoadCheckpoint(path, nullptr, *restored, &restored_optimizer).ok());
  EXPECT_TRUE(restored->conv->weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
  ExpectSameModel(model, restored);

  // And the other way round: a checkpoint of a channels_last model into a contiguous one.
  const std::string path2 = Path("channels_last2.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path2, SampleState(), *restored, nullptr).ok());
  torch::manual_seed(6);
  TinyNet plain;
  ASSERT_TRUE(LoadCheckpoint(path2, nullptr, *plain, nullptr).ok());
  EXPECT_TRUE(plain->conv->weight.is_contiguous());
  ExpectSameModel(model, plain);
}

TEST_F(CheckpointTest, LoadsIntoCudaModel) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TinyNet model;
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(model, optimizer, 0);
  const std::string path = Path("cuda.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, &optimizer).ok());
  TinyNet restored;
  restored->to(torch::kCUDA);
  torch::optim::SGD restored_optimizer(restored->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  ASSERT_TRUE(LoadCheckpoint(path, nullptr, *restored, &restored_optimizer).ok());
  EXPECT_TRUE(restored->conv->weight.is_cuda());
  ExpectSameModel(model, restored);
  const auto& state = StateOf<torch::optim::SGDParamState>(restored_optimizer, restored->conv->weight);
  EXPECT_TRUE(state.momentum_buffer().is_cuda());
}

TEST_F(CheckpointTest, WeightsOnlyAndEma) {
  TinyNet model;
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(model, optimizer, 0);
  TinyNet ema;
  for (torch::Tensor& parameter : ema->parameters()) parameter.data().fill_(0.5);

  const std::string with_ema = Path("ema.ckpt");
  ASSERT_TRUE(SaveCheckpoint(with_ema, SampleState(), *model, &optimizer, ema.get()).ok());
  TinyNet restored, restored_ema;
  ASSERT_TRUE(LoadCheckpoint(with_ema, nullptr, *restored, nullptr, restored_ema.get()).ok());
  ExpectSameModel(model, restored);
  ExpectSameModel(ema, restored_ema);
  // Weights only from a file that also holds optimizer state and EMA weights.
  TinyNet weights_only;
  ASSERT_TRUE(LoadCheckpoint(with_ema, nullptr, *weights_only, nullptr).ok());
  ExpectSameModel(model, weights_only);

  const std::string weights = Path("weights.ckpt");
  ASSERT_TRUE(SaveCheckpoint(weights, SampleState(), *model, nullptr).ok());
  absl::StatusOr<TrainState> state = ReadTrainState(weights);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->has_optimizer_state());
  TinyNet other;
  torch::optim::SGD other_optimizer(other->parameters(), torch::optim::SGDOptions(0.1));
  absl::Status status = LoadCheckpoint(weights, nullptr, *other, &other_optimizer);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr(weights));
  status = LoadCheckpoint(weights, nullptr, *other, nullptr, ema.get());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_F(CheckpointTest, ReadTrainStateNeedsNoModel) {
  TinyNet model;
  const std::string path = Path("state.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, nullptr).ok());
  absl::StatusOr<TrainState> state = ReadTrainState(path);
  ASSERT_TRUE(state.ok()) << state.status();
  TrainState expected = SampleState();
  expected.set_format(kCheckpointFormat);
  expected.set_torch_version(state->torch_version());
  EXPECT_EQ(state->SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(state->torch_version().substr(0, 2), "2.");
  EXPECT_EQ(state->log().epochs(0).top1(), 71.25);
  EXPECT_EQ(state->config().name(), "tiny");
}

TEST_F(CheckpointTest, RefusesAModelOfAnotherShape) {
  TinyNet model;
  const std::string path = Path("shape.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, nullptr).ok());

  TinyNet wider(5);
  const torch::Tensor before = wider->conv->weight.clone();
  absl::Status status = LoadCheckpoint(path, nullptr, *wider, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("head.2.weight"));
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_TRUE(torch::equal(before, wider->conv->weight)) << "a failed load must not change the model";

  // A model with a parameter the checkpoint lacks, and one lacking a parameter it has.
  struct ExtraImpl : TinyNetImpl {
    ExtraImpl() { register_parameter("extra", torch::zeros({2})); }
  };
  ExtraImpl extra;
  status = LoadCheckpoint(path, nullptr, extra, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("'extra'"));

  const std::string extra_path = Path("extra.ckpt");
  ASSERT_TRUE(SaveCheckpoint(extra_path, SampleState(), extra, nullptr).ok());
  status = LoadCheckpoint(extra_path, nullptr, *model, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("'extra', which the model does not have"));
}

TEST_F(CheckpointTest, MissingFileIsNotFound) {
  TinyNet model;
  const std::string path = Path("missing.ckpt");
  absl::Status status = LoadCheckpoint(path, nullptr, *model, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_EQ(ReadTrainState(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CheckpointTest, RefusesAFileThatIsNotACheckpoint) {
  TinyNet model;
  const std::string path = Path("not_a_checkpoint.rec");
  std::string bytes;
  AppendFramedRecord("an image record, not a TrainState", &bytes);
  AppendFramedRecord("more", &bytes);
  testdata::WriteTestFile(path, bytes);
  absl::Status status = LoadCheckpoint(path, nullptr, *model, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_EQ(ReadTrainState(path).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, FlippedBytesAndTruncationsAreDataLoss) {
  TinyNet model;
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(model, optimizer, 0);
  const std::string path = Path("good.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *model, &optimizer).ok());
  const std::string good = *ReadFile(path);
  ASSERT_GT(good.size(), 4000u);  // about 22 KB
  // ReadTrainState checks the state record and the framing header of the tensor record.
  const size_t checked_by_read_state = ReadTrainState(path)->ByteSizeLong() + kRecordOverhead + 12;
  // Every byte of the first 2 KB (both records' framing, the state, the archive's first entries)
  // and of the last 64 (payload CRC, the archive's central directory), every 7th byte in
  // between: all of them would take about 25 s.
  auto tried = [&](size_t i) { return i < 2048 || i + 64 >= good.size() || i % 7 == 0; };

  const std::string bad = Path("bad.ckpt");
  TinyNet target;
  torch::optim::SGD target_optimizer(target->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::vector<torch::Tensor> before;
  for (const torch::Tensor& tensor : target->parameters()) before.push_back(tensor.clone());
  for (size_t i = 0; i < good.size(); ++i) {
    if (!tried(i)) continue;
    std::string damaged = good;
    damaged[i] ^= static_cast<char>(0x01 << (i % 8));
    testdata::WriteTestFile(bad, damaged);
    const absl::Status status = LoadCheckpoint(bad, nullptr, *target, &target_optimizer);
    ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << "byte " << i << ": " << status;
    ASSERT_THAT(status.message(), HasSubstr(bad));
    if (i < checked_by_read_state) {
      ASSERT_EQ(ReadTrainState(bad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
    }
  }
  for (size_t length = 0; length < good.size(); ++length) {
    if (!tried(length)) continue;
    testdata::WriteTestFile(bad, good.substr(0, length));
    const absl::Status status = LoadCheckpoint(bad, nullptr, *target, nullptr);
    ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << "length " << length << ": " << status;
    ASSERT_THAT(status.message(), HasSubstr(bad));
    ASSERT_EQ(ReadTrainState(bad).status().code(), absl::StatusCode::kDataLoss) << "length " << length;
  }
  testdata::WriteTestFile(bad, good + "x");
  EXPECT_EQ(LoadCheckpoint(bad, nullptr, *target, nullptr).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadTrainState(bad).status().code(), absl::StatusCode::kDataLoss);

  // None of the refused files touched the model or the optimizer.
  const std::vector<torch::Tensor> after = target->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;
  EXPECT_TRUE(target_optimizer.state().empty());
  testdata::WriteTestFile(bad, good);
  ASSERT_TRUE(LoadCheckpoint(bad, nullptr, *target, &target_optimizer).ok());
  ExpectSameModel(model, target);
}

TEST_F(CheckpointTest, RefusesAPickleThatWouldMakeLibTorchAllocateGigabytes) {
  // A checkpoint with valid CRCs whose archive's data.pkl writes memo entry 1701536610 first:
  // LibTorch's unpickler would allocate 27 GB for its memo table (found by checkpoint_fuzz_test).
  TinyNet model;
  const std::string good = Path("good.ckpt");
  ASSERT_TRUE(SaveCheckpoint(good, SampleState(), *model, nullptr).ok());
  std::string bytes;
  AppendFramedRecord(ReadTrainState(good)->SerializeAsString(), &bytes);
  AppendFramedRecord(ArchiveOfOnePickle(kHugeMemoPickle), &bytes);
  const std::string path = Path("crafted.ckpt");
  testdata::WriteTestFile(path, bytes);
  const absl::Status status = LoadCheckpoint(path, nullptr, *model, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(path, ": corrupt checkpoint: the archive's record 'data.pkl'")));
  EXPECT_THAT(status.message(), HasSubstr("writes memo entry 1701536610 when only 0 entries exist"));
}

TEST_F(CheckpointTest, FailedSaveLeavesTheOldCheckpoint) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/last.ckpt";
  TinyNet old_model;
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *old_model, nullptr).ok());
  const std::string old_bytes = *ReadFile(path);

  // The disk fills up in the middle of the new file (RLIMIT_FSIZE makes write() fail with EFBIG).
  TinyNet new_model;
  torch::optim::SGD optimizer(new_model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(new_model, optimizer, 0);
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 2000;
  auto previous_handler = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status status = SaveCheckpoint(path, SampleState(), *new_model, &optimizer);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, previous_handler);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_EQ(*ReadFile(path), old_bytes);
  EXPECT_EQ(FileNames(dir), (std::vector<std::string>{"last.ckpt"}));  // no temporary file left
  TinyNet reloaded;
  ASSERT_TRUE(LoadCheckpoint(path, nullptr, *reloaded, nullptr).ok());
  ExpectSameModel(old_model, reloaded);

  // The target is a directory: refused, the directory and its contents untouched.
  const std::string target_dir = dir + "/ckpt_dir";
  ::mkdir(target_dir.c_str(), 0777);
  ASSERT_TRUE(WriteFileAtomically(target_dir + "/keep", "keep").ok());
  const absl::Status dir_status = SaveCheckpoint(target_dir, SampleState(), *new_model, &optimizer);
  EXPECT_FALSE(dir_status.ok());
  EXPECT_THAT(dir_status.message(), HasSubstr(target_dir));
  EXPECT_EQ(*ReadFile(target_dir + "/keep"), "keep");
  EXPECT_EQ(FileNames(dir), (std::vector<std::string>{"ckpt_dir", "last.ckpt"}));

  // And a successful save replaces the old file.
  ASSERT_TRUE(SaveCheckpoint(path, SampleState(), *new_model, &optimizer).ok());
  ASSERT_TRUE(LoadCheckpoint(path, nullptr, *reloaded, nullptr).ok());
  ExpectSameModel(new_model, reloaded);
}

TEST_F(CheckpointTest, RngStateRoundTrip) {
  TrainState state;
  ASSERT_TRUE(CaptureRngState(&state).ok());
  EXPECT_FALSE(state.cpu_rng_state().empty());
  EXPECT_EQ(state.cuda_rng_states_size(), static_cast<int>(torch::cuda::device_count()));
  const torch::Tensor first = torch::rand({16});
  const torch::Tensor first_normal = torch::randn({16});
  ASSERT_TRUE(RestoreRngState(state).ok());
  EXPECT_TRUE(torch::equal(first, torch::rand({16})));
  EXPECT_TRUE(torch::equal(first_normal, torch::randn({16})));

  TrainState bad;
  bad.set_cpu_rng_state("too short");
  EXPECT_EQ(RestoreRngState(bad).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forge
