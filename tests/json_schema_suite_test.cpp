// The JSON Schema suite (tests/data/schemas/NN-name.json): each grammar accepts the valid
// instances (compact and with spaces) and rejects the invalid ones, and Python's jsonschema
// (tests/schema/validate.py) confirms which instances are valid.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "json_schema_test_helpers.h"

namespace dawn {
namespace {

using namespace testonly;

std::filesystem::path suite_dir() { return std::filesystem::path(DAWN_TEST_DATA) / "schemas"; }

std::vector<std::filesystem::path> suite_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(suite_dir()))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Each file: {"schema", "valid": [...], "invalid": [...]}, optionally "valid_text"/"rejected_text":
// raw texts the grammar must accept / reject (whitespace, member order, escapes).
TEST(JsonSchemaSuite, GrammarsAcceptTheValidAndRejectTheInvalid) {
  const auto files = suite_files();
  ASSERT_GE(files.size(), 40u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream in(path);
    const Json doc = Json::parse(in);
    std::string gbnf;
    ASSERT_NO_THROW(gbnf = json_schema_to_gbnf(doc.at("schema")));
    std::unique_ptr<TestGbnfRecognizer> r;
    ASSERT_NO_THROW(r = std::make_unique<TestGbnfRecognizer>(gbnf)) << gbnf;
    ASSERT_FALSE(doc.at("valid").empty());
    ASSERT_FALSE(doc.at("invalid").empty());
    for (const Json& v : doc.at("valid")) {
      EXPECT_TRUE(r->accepts(v.dump())) << "valid, compact: " << v.dump() << "\n" << gbnf;
      EXPECT_TRUE(r->accepts(spaced(v))) << "valid, spaced: " << spaced(v) << "\n" << gbnf;
    }
    for (const Json& v : doc.at("invalid")) {
      EXPECT_FALSE(r->accepts(v.dump())) << "invalid, compact: " << v.dump() << "\n" << gbnf;
      EXPECT_FALSE(r->accepts(spaced(v))) << "invalid, spaced: " << spaced(v) << "\n" << gbnf;
    }
    for (const Json& t : doc.value("valid_text", Json::array()))
      EXPECT_TRUE(r->accepts(t.get<std::string>())) << "valid text: " << t.get<std::string>() << "\n" << gbnf;
    for (const Json& t : doc.value("rejected_text", Json::array()))
      EXPECT_FALSE(r->accepts(t.get<std::string>())) << "rejected text: " << t.get<std::string>() << "\n" << gbnf;
  }
}

// The suite's instances are what they claim to be, by Python's jsonschema (Draft 2020-12, with
// format checking).
TEST(JsonSchemaSuite, InstancesAgreeWithPythonJsonschema) {
  const std::string script = (std::filesystem::path(DAWN_TEST_DATA) / ".." / "schema" / "validate.py").string();
  const std::string cmd = "python3 '" + script + "' '" + suite_dir().string() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << out;
}

}  // namespace
}  // namespace dawn
