#include "lib/distributed/launch.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace forge {
namespace {

GetEnv Fake(const std::map<std::string, std::string>& variables) {
  return [variables](const char* name) -> const char* {
    auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  };
}

TEST(DetectLaunchTest, AloneIsOneProcess) {
  absl::StatusOr<Launch> launch = DetectLaunch(Fake({}));
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->launcher, "none");
  EXPECT_EQ(launch->world_size, 1);
  EXPECT_EQ(launch->rank, 0);
}

TEST(DetectLaunchTest, ReadsTorchrun) {
  absl::StatusOr<Launch> launch =
      DetectLaunch(Fake({{"RANK", "5"}, {"WORLD_SIZE", "16"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "8"},
                         {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29500"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                         {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->launcher, "torchrun");
  EXPECT_EQ(launch->rank, 5);
  EXPECT_EQ(launch->world_size, 16);
  EXPECT_EQ(launch->local_rank, 1);
  EXPECT_EQ(launch->local_world_size, 8);
  EXPECT_EQ(launch->master_addr, "node7");
  EXPECT_EQ(launch->master_port, 29500);
  EXPECT_TRUE(launch->agent_store);
  EXPECT_EQ(launch->restart_count, 2);
}

TEST(DetectLaunchTest, ReadsMpirunAndSlurmAndPrefersTheInnerLauncher) {
  absl::StatusOr<Launch> mpi = DetectLaunch(Fake({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                                  {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                                  {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                                  // The srun step that started mpirun.
                                                  {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
  ASSERT_TRUE(mpi.ok()) << mpi.status();
  EXPECT_EQ(mpi->launcher, "mpirun");
  EXPECT_EQ(mpi->rank, 3);
  EXPECT_EQ(mpi->local_world_size, 2);

  absl::StatusOr<Launch> slurm = DetectLaunch(
      Fake({{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "2"}, {"SLURM_NTASKS_PER_NODE", "4(x2)"}}));
  ASSERT_TRUE(slurm.ok()) << slurm.status();
  EXPECT_EQ(slurm->launcher, "srun");
  EXPECT_EQ(slurm->rank, 6);
  EXPECT_EQ(slurm->local_rank, 2);
  EXPECT_EQ(slurm->local_world_size, 4);
}

TEST(DetectLaunchTest, UnderSrunTheStoreIsOnTheFirstNodeUnlessExported) {
  absl::StatusOr<Launch> slurm = DetectLaunch(Fake({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"},
                                                    {"SLURM_JOB_NODELIST", "gpu[07-08]"}, {"SLURM_JOB_ID", "123456"}}));
  ASSERT_TRUE(slurm.ok()) << slurm.status();
  EXPECT_EQ(slurm->master_addr, "gpu07");
  EXPECT_EQ(slurm->master_port, 20000 + 123456 % 20000);
  absl::StatusOr<Launch> exported =
      DetectLaunch(Fake({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"}, {"SLURM_JOB_NODELIST", "gpu[07-08]"},
                         {"SLURM_JOB_ID", "123456"}, {"MASTER_ADDR", "head"}, {"MASTER_PORT", "29500"}}));
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->master_addr, "head");
  EXPECT_EQ(exported->master_port, 29500);
}

TEST(FirstSlurmHostTest, ReadsSlurmsHostListForms) {
  EXPECT_EQ(FirstSlurmHost("node1"), "node1");
  EXPECT_EQ(FirstSlurmHost("node1,node2"), "node1");
  EXPECT_EQ(FirstSlurmHost("gpu[07-10,12],cpu3"), "gpu07");
  EXPECT_EQ(FirstSlurmHost("gpu[3,5-6]"), "gpu3");
  EXPECT_EQ(FirstSlurmHost("rack[1-2]-gpu,x"), "rack1-gpu");
  EXPECT_EQ(FirstSlurmHost(""), "");
}

TEST(DetectLaunchTest, RefusesValuesThatCannotBeNamingTheVariable) {
  for (const auto& variables : std::vector<std::map<std::string, std::string>>{
           {{"RANK", "2"}, {"WORLD_SIZE", "2"}},
           {{"RANK", "x"}, {"WORLD_SIZE", "2"}},
           {{"RANK", "0"}, {"WORLD_SIZE", "0"}},
           {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "3"}, {"LOCAL_WORLD_SIZE", "2"}},
           {{"MASTER_PORT", "70000"}}}) {
    absl::StatusOr<Launch> launch = DetectLaunch(Fake(variables));
    ASSERT_FALSE(launch.ok());
    EXPECT_EQ(launch.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(launch.status().message());
    EXPECT_TRUE(message.find("RANK") != std::string::npos || message.find("WORLD_SIZE") != std::string::npos ||
                message.find("MASTER_PORT") != std::string::npos || message.find("local") != std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace forge
