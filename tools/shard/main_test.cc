// Runs the shard binary itself: flags, the summary line, exit codes of both modes, and the
// pipeline into compute_stats, whose statistics over the manifest must equal those over the
// folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/io/proto_file.h"
#include "proto/stats.pb.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"
#include "tools/shard/shard_testing.h"

namespace forge {
namespace {

using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

testdata::ToolResult Shard(const std::string& dir, const std::string& flags) {
  return testdata::RunTool("tools/shard/shard", flags + " --progress=false", dir);
}

TEST(MainTest, ShardThenVerifyWithExitCodes) {
  const std::string dir = NewScratchDir();
  const std::string data = shard_testing::TinyImageNet() + "/train";
  testdata::ToolResult result = Shard(
      dir, absl::StrCat("--data=", data, " --out_dir=", dir, "/out --num_shards=3 --threads=2"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(
      result.out,
      MatchesRegex("shard: split=train images=404 skipped=3 converted=3 reencoded=0 shards=3 "
                   "written=3 reused=0 bytes=[0-9]+ out=.*/out/train.manifest.txtpb\n"));
  EXPECT_THAT(result.err, HasSubstr("skipping"));

  // Rerun: nothing to do.
  result = Shard(dir, absl::StrCat("--data=", data, " --out_dir=", dir, "/out --num_shards=3"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("written=0 reused=3"));
  EXPECT_THAT(result.err, HasSubstr("nothing to do"));

  const std::string manifest = dir + "/out/train.manifest.txtpb";
  result = Shard(dir, "--verify=" + manifest);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(
      result.out,
      MatchesRegex(
          "shard verify: manifest=.* shards=3 records=404 bytes=[0-9]+ problems=0 ok=true\n"));

  const std::string shard = dir + "/out/train-00001-of-00003.rec";
  std::string bytes = ReadTestFile(shard);
  bytes[100] ^= 0x01;
  WriteTestFile(shard, bytes);
  result = Shard(dir, "--verify=" + manifest);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.out, HasSubstr("problem: " + shard + ": corrupt record at byte offset 0"));
  EXPECT_THAT(result.out, HasSubstr("ok=false"));

  result = Shard(dir, "--verify=" + dir + "/absent.manifest.txtpb");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("absent.manifest.txtpb"));
}

TEST(MainTest, BadUsageExitsTwo) {
  const std::string dir = NewScratchDir();
  const std::string data = shard_testing::TinyImageNet() + "/train";
  EXPECT_EQ(Shard(dir, "--out_dir=" + dir).exit_code, 2);
  EXPECT_EQ(Shard(dir, absl::StrCat("--data=", data, " --out_dir=", dir, " --quality=0")).exit_code,
            2);
  EXPECT_EQ(Shard(dir, absl::StrCat("--data=", data, " --out_dir=", dir,
                                    " --num_shards=2 --shard_size_mb=1"))
                .exit_code,
            2);
  EXPECT_EQ(Shard(dir, absl::StrCat("--data=", data, " --out_dir=", dir, " --strict")).exit_code,
            2);
  EXPECT_EQ(Shard(dir, absl::StrCat("--data=", data, " --verify=x.txtpb")).exit_code, 2);
  EXPECT_EQ(Shard(dir, "positional").exit_code, 2);
}

// The stored bytes of normal files are the source bytes, so every statistic agrees exactly
// (pathological files are left out: converted ones have other pixels).
TEST(MainTest, ComputeStatsOnTheManifestEqualsTheFolder) {
  const std::string dir = NewScratchDir();
  const std::string data = shard_testing::CleanTinyImageNet() + "/train";
  testdata::ToolResult result =
      Shard(dir, absl::StrCat("--data=", data, " --out_dir=", dir, "/out --num_shards=3"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ChannelStats stats[2];
  const std::string inputs[2] = {data, dir + "/out/train.manifest.txtpb"};
  for (int i = 0; i < 2; ++i) {
    const std::string out = absl::StrCat(dir, "/stats", i, ".txtpb");
    result = testdata::RunTool("tools/compute_stats/compute_stats",
                               absl::StrCat("--data=", inputs[i], " --out=", out, " --progress=false"), dir);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    ASSERT_TRUE(ReadProtoFile(out, &stats[i]).ok());
    stats[i].mutable_options()->clear_data();
  }
  EXPECT_EQ(stats[0].images(), 400);
  EXPECT_EQ(stats[0].DebugString(), stats[1].DebugString());
}

}  // namespace
}  // namespace forge
