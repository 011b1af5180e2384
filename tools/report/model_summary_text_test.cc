#include "tools/report/model_summary_text.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(ModelSummaryTextTest, AlignedColumnsAndTotals) {
  ModelSummary summary;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    model: "tiny"
    input_shape: [2, 3, 8, 8]
    layers { name: "conv" type: "Conv2d" output_shape: [2, 4, 8, 8] parameters: 108 }
    layers { name: "block" type: "Sequential" output_shape: [2, 4, 8, 8] }
    layers { name: "block.0" type: "BatchNorm2d" output_shape: [2, 4, 8, 8] parameters: 8 depth: 1 }
    layers { name: "fc" type: "Linear" output_shape: [2, 1000] parameters: 1234567 }
    trainable_parameters: 1234675
  )pb", &summary));
  EXPECT_EQ(TotalParameters(summary), 108 + 8 + 1234567);
  EXPECT_EQ(ModelSummaryText(summary),
            "Model: tiny\n"
            "Input shape: [2, 3, 8, 8]\n"
            "==============================================\n"
            "Layer   Type          Output shape     Param #\n"
            "==============================================\n"
            "conv    Conv2d        [2, 4, 8, 8]         108\n"
            "block   Sequential    [2, 4, 8, 8]          --\n"
            "  0     BatchNorm2d   [2, 4, 8, 8]           8\n"
            "fc      Linear        [2, 1000]      1,234,567\n"
            "==============================================\n"
            "Total params: 1,234,683\n"
            "Trainable params: 1,234,675\n"
            "Non-trainable params: 8\n"
            "==============================================\n");
}

TEST(ModelSummaryTextTest, EmptySummary) {
  EXPECT_EQ(ModelSummaryText(ModelSummary()),
            "=====================================\n"
            "Layer   Type   Output shape   Param #\n"
            "=====================================\n"
            "=====================================\n"
            "Total params: 0\n"
            "Trainable params: 0\n"
            "Non-trainable params: 0\n"
            "=====================================\n");
}

}  // namespace
}  // namespace forge
