// The web page in a real browser (Debian's headless Chromium, over the DevTools protocol): an
// image chosen in the page's file input, and one dropped on its drop zone, are uploaded by the
// page's own script, and the top-5 it renders are the model's.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "testdata/scratch.h"
#include "tools/serve/headless_chromium.h"
#include "tools/serve/serve_testing.h"
#include "tools/serve/server.h"

namespace forge {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// The rendered rows as JSON text: [{wnid, name, percent, width}, ...].
constexpr char kRows[] =
    "JSON.stringify([...document.querySelectorAll('#results .result')].map(r => ({"
    "wnid: r.dataset.wnid, name: r.querySelector('.name').textContent,"
    "percent: r.querySelector('.percent').textContent, width: r.querySelector('.bar').style.width})))";
constexpr char kStatus[] =
    "JSON.stringify({text: document.getElementById('status').textContent,"
    "error: document.getElementById('status').className === 'error'})";

Struct ParseJson(const std::string& text) {
  Struct json;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &json).ok()) << text;
  return json;
}

class BrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testdata::NewScratchDir());
    absl::StatusOr<ServeTestInputs> inputs = WriteServeTestInputs(*dir_);
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    inputs_ = new ServeTestInputs(*std::move(inputs));
    absl::StatusOr<std::unique_ptr<Predictor>> reference = Predictor::Create(inputs_->predictor);
    ASSERT_TRUE(reference.ok()) << reference.status();
    classes_ = new std::vector<ClassLabel>((*reference)->classes());
    reference_ = new std::vector<TopK>();
    std::vector<absl::string_view> images(inputs_->images.begin(), inputs_->images.end());
    for (absl::StatusOr<TopK>& top : (*reference)->Predict(images, 5)) {
      ASSERT_TRUE(top.ok()) << top.status();
      reference_->push_back(*std::move(top));
    }
    absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(inputs_->predictor);
    ASSERT_TRUE(predictor.ok()) << predictor.status();
    ServerOptions options;
    options.port = 0;
    options.model_name = "resnet18";
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(*std::move(predictor), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    absl::StatusOr<std::unique_ptr<HeadlessChromium>> browser = HeadlessChromium::Start(*dir_);
    ASSERT_TRUE(browser.ok()) << browser.status();
    browser_ = browser->release();
  }

  static void TearDownTestSuite() {
    delete browser_;
    delete server_;
  }

  void SetUp() override {
    ASSERT_NE(browser_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  // A new tab with the page, once it has loaded and shown the model's name (from /healthz).
  static std::string OpenPage() {
    absl::StatusOr<std::string> page = browser_->OpenPage(absl::StrCat("http://127.0.0.1:", server_->port(), "/"));
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return "";
    const std::string shown = WaitFor(*page, "document.readyState === 'complete' && "
                                             "document.getElementById('model').textContent.includes('resnet18') ? "
                                             "document.getElementById('model').textContent : ''");
    EXPECT_EQ(shown, "resnet18, 10 classes, on cpu");
    return *page;
  }

  // Evaluates `expression` every 20 ms until it gives a non-empty string other than "[]" (at
  // most 30 s), and returns that; "" when it never did.
  static std::string WaitFor(const std::string& page, const std::string& expression) {
    for (int tries = 0; tries < 1500; ++tries) {
      absl::StatusOr<Value> value = browser_->Evaluate(page, expression);
      EXPECT_TRUE(value.ok()) << value.status();
      if (!value.ok()) return "";
      if (!value->string_value().empty() && value->string_value() != "[]") return value->string_value();
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "waited 30 s for " << expression;
    return "";
  }

  // Waits for the page's rows and checks them against the reference top-5 of image `image`:
  // the same classes and names in order (where no near tie could swap them), each percentage
  // and bar width the probability's.
  static void ExpectRenderedTop5(const std::string& page, int image) {
    const std::string file = inputs_->image_paths[image].substr(inputs_->image_paths[image].rfind('/') + 1);
    const std::string status = WaitFor(page, absl::StrCat("document.getElementById('status').textContent.startsWith(",
                                                          "'", file, ":') ? 'done' : ''"));
    ASSERT_EQ(status, "done") << "the page never showed the answer for " << file;
    const Struct rows = ParseJson(absl::StrCat("{\"rows\": ", WaitFor(page, kRows), "}"));
    const auto& shown = rows.fields().at("rows").list_value().values();
    const TopK& expected = (*reference_)[image];
    ASSERT_EQ(shown.size(), 5);
    for (int i = 0; i < 5; ++i) {
      const auto& row = shown[i].struct_value().fields();
      const double p = 100.0 * expected.probabilities[i];
      double percent = 0, width = 0;
      const std::string percent_text = row.at("percent").string_value();
      const std::string width_text = row.at("width").string_value();
      ASSERT_TRUE(absl::EndsWith(percent_text, "%") &&
                  absl::SimpleAtod(percent_text.substr(0, percent_text.size() - 1), &percent))
          << percent_text;
      ASSERT_TRUE(absl::EndsWith(width_text, "%") && absl::SimpleAtod(width_text.substr(0, width_text.size() - 1), &width))
          << width_text;
      EXPECT_NEAR(percent, p, 0.05 + 1e-3) << "rank " << i;  // shown to 0.1%
      EXPECT_NEAR(width, p, 0.005 + 1e-3) << "rank " << i;   // drawn to 0.01%
      const bool tied = (i > 0 && expected.probabilities[i - 1] - expected.probabilities[i] < 1e-4) ||
                        (i < 4 && expected.probabilities[i] - expected.probabilities[i + 1] < 1e-4);
      if (tied) continue;
      const ClassLabel& label = (*classes_)[expected.classes[i]];
      EXPECT_EQ(row.at("wnid").string_value(), label.wnid) << "rank " << i;
      EXPECT_EQ(row.at("name").string_value(), label.name) << "rank " << i;
    }
  }

  static void SaveScreenshot(const std::string& page, const std::string& name) {
    const char* outputs = getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    if (outputs == nullptr) return;
    absl::StatusOr<Struct> shot = browser_->Call("Page.captureScreenshot", Json({{"format", JsonText("png")}}), page);
    ASSERT_TRUE(shot.ok()) << shot.status();
    std::string png;
    ASSERT_TRUE(absl::Base64Unescape(shot->fields().at("data").string_value(), &png));
    std::ofstream(absl::StrCat(outputs, "/", name), std::ios::binary) << png;
  }

  static std::string* dir_;
  static ServeTestInputs* inputs_;
  static std::vector<ClassLabel>* classes_;
  static std::vector<TopK>* reference_;
  static Server* server_;
  static HeadlessChromium* browser_;
};

std::string* BrowserTest::dir_ = nullptr;
ServeTestInputs* BrowserTest::inputs_ = nullptr;
std::vector<ClassLabel>* BrowserTest::classes_ = nullptr;
std::vector<TopK>* BrowserTest::reference_ = nullptr;
Server* BrowserTest::server_ = nullptr;
HeadlessChromium* BrowserTest::browser_ = nullptr;

TEST_F(BrowserTest, AChosenFileIsUploadedAndItsTopFiveDrawnAsBars) {
  const std::string page = OpenPage();
  ASSERT_FALSE(page.empty());
  absl::StatusOr<Struct> document = browser_->Call("DOM.getDocument", Json({{"depth", JsonNumber(0)}}), page);
  ASSERT_TRUE(document.ok()) << document.status();
  absl::StatusOr<Struct> input = browser_->Call(
      "DOM.querySelector",
      Json({{"nodeId", document->fields().at("root").struct_value().fields().at("nodeId")},
            {"selector", JsonText("input[type=file]")}}),
      page);
  ASSERT_TRUE(input.ok()) << input.status();
  const int64_t before = server_->stats().answered;
  // As a person choosing the file in the dialog: the page's change handler does the rest.
  absl::StatusOr<Struct> chosen =
      browser_->Call("DOM.setFileInputFiles",
                     Json({{"nodeId", input->fields().at("nodeId")},
                           {"files", JsonList({JsonText(inputs_->image_paths[3])})}}),
                     page);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  ExpectRenderedTop5(page, 3);
  EXPECT_EQ(server_->stats().answered, before + 1) << "the page's answer came from the server";
  EXPECT_TRUE(absl::StrContains(ParseJson(WaitFor(page, kStatus)).fields().at("text").string_value(), " ms"));
  SaveScreenshot(page, "chosen.png");
}

TEST_F(BrowserTest, ADroppedFileIsUploadedAndItsTopFiveDrawn) {
  const std::string page = OpenPage();
  ASSERT_FALSE(page.empty());
  const Struct box = ParseJson(WaitFor(page, "JSON.stringify(document.getElementById('drop').getBoundingClientRect())"));
  const double x = box.fields().at("x").number_value() + box.fields().at("width").number_value() / 2;
  const double y = box.fields().at("y").number_value() + box.fields().at("height").number_value() / 2;
  const Value data = JsonObject(Json({{"items", JsonList({})},
                                      {"files", JsonList({JsonText(inputs_->image_paths[17])})},
                                      {"dragOperationsMask", JsonNumber(1)}}));
  for (const char* type : {"dragEnter", "dragOver", "drop"}) {
    absl::StatusOr<Struct> dragged = browser_->Call(
        "Input.dispatchDragEvent",
        Json({{"type", JsonText(type)}, {"x", JsonNumber(x)}, {"y", JsonNumber(y)}, {"data", data}}), page);
    ASSERT_TRUE(dragged.ok()) << type << ": " << dragged.status();
  }
  ExpectRenderedTop5(page, 17);
  SaveScreenshot(page, "dropped.png");
}

TEST_F(BrowserTest, AFileThatIsNoImageShowsTheServersMessage) {
  const std::string page = OpenPage();
  ASSERT_FALSE(page.empty());
  const std::string bad = *dir_ + "/holiday.jpg";
  testdata::WriteTestFile(bad, "not a JPEG at all");
  absl::StatusOr<Struct> document = browser_->Call("DOM.getDocument", Json({{"depth", JsonNumber(0)}}), page);
  ASSERT_TRUE(document.ok()) << document.status();
  absl::StatusOr<Struct> input = browser_->Call(
      "DOM.querySelector",
      Json({{"nodeId", document->fields().at("root").struct_value().fields().at("nodeId")},
            {"selector", JsonText("#file")}}),
      page);
  ASSERT_TRUE(input.ok()) << input.status();
  ASSERT_TRUE(browser_
                  ->Call("DOM.setFileInputFiles",
                         Json({{"nodeId", input->fields().at("nodeId")}, {"files", JsonList({JsonText(bad)})}}), page)
                  .ok());
  const std::string status = WaitFor(page, "document.getElementById('status').className === 'error' ? "
                                           "document.getElementById('status').textContent : ''");
  EXPECT_EQ(status, "the body is neither a JPEG nor a PNG image");
  EXPECT_EQ(WaitFor(page, "String(document.querySelectorAll('#results .result').length)"), "0");
}

}  // namespace
}  // namespace forge
