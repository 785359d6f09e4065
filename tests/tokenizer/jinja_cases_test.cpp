// Renders every case of data/jinja_cases.json and compares with the text Jinja2
// produced for it (make_jinja_cases.py runs Jinja2 as transformers sets it up):
// the model templates of the shared test data, llama.cpp's test templates, and
// one small template per Jinja2 behaviour.
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace autan::jinja {
namespace {

using Json = nlohmann::ordered_json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json LoadCases() {
  std::string text =
      ReadFile(std::string(AUTAN_SOURCE_DIR) + "/tests/tokenizer/data/jinja_cases.json");
  return Json::parse(text);
}

// Where two renderings part, with some context, so a failure reads quickly.
std::string Difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  size_t from = i < 60 ? 0 : i - 60;
  return "first difference at byte " + std::to_string(i) +
         "\n  got:  " + Json(got.substr(from, 120)).dump() +
         "\n  want: " + Json(want.substr(from, 120)).dump();
}

// The clock make_jinja_cases.py gives strftime_now: 2024-07-26 13:05:09, read
// as UTC.
RenderOptions FixedClock() {
  setenv("TZ", "UTC", 1);
  tzset();
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 13;
  tm.tm_min = 5;
  tm.tm_sec = 9;
  RenderOptions options;
  options.now = std::chrono::system_clock::from_time_t(timegm(&tm));
  return options;
}

// The part of a Jinja2 error message our message must repeat, for the errors
// whose wording we mirror ("TemplateError: <message>" from raise_exception,
// undefined-variable messages).
std::string MirroredMessage(const std::string& jinja_error) {
  for (const char* type : {"TemplateError: ", "UndefinedError: "}) {
    if (jinja_error.rfind(type, 0) == 0) return jinja_error.substr(std::string(type).size());
  }
  return "";
}

TEST(JinjaCases, MatchJinja2) {
  Json cases = LoadCases();
  ASSERT_GT(cases.size(), 150u);
  RenderOptions options = FixedClock();
  int rendered = 0;
  int errors = 0;
  for (const Json& c : cases) {
    std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::string source = c.contains("template_file")
                             ? ReadFile(std::string(AUTAN_TESTDATA) + "/templates/" +
                                        c.at("template_file").get<std::string>())
                             : c.at("template").get<std::string>();
    ASSERT_FALSE(source.empty());
    auto tmpl = Template::Parse(source);
    if (!tmpl.ok() && c.contains("error")) {  // Jinja2 rejects it as well
      EXPECT_EQ(c.at("error").get<std::string>().rfind("TemplateSyntaxError", 0), 0u)
          << tmpl.error().message;
      ++errors;
      continue;
    }
    ASSERT_TRUE(tmpl.ok()) << tmpl.error().message;
    auto out = tmpl->Render(c.at("context"), options);
    if (c.contains("expected")) {
      ASSERT_TRUE(out.ok()) << out.error().message;
      std::string want = c.at("expected").get<std::string>();
      EXPECT_TRUE(*out == want) << Difference(*out, want);
      ++rendered;
    } else {
      std::string jinja_error = c.at("error").get<std::string>();
      ASSERT_FALSE(out.ok()) << "Jinja2 fails with " << jinja_error << " but we render:\n" << *out;
      std::string mirrored = MirroredMessage(jinja_error);
      EXPECT_NE(out.error().message.find(mirrored), std::string::npos)
          << out.error().message << "\nshould contain: " << mirrored;
      EXPECT_EQ(out.error().message.rfind("line ", 0), 0u) << out.error().message;
      ++errors;
    }
  }
  EXPECT_GT(rendered, 150);
  EXPECT_GT(errors, 20);
}

// Every model template of the shared test data is covered by the cases.
TEST(JinjaCases, CoverEveryModelTemplate) {
  Json cases = LoadCases();
  for (const char* file :
       {"Qwen-Qwen2.5-7B-Instruct.jinja", "google-gemma-2-2b-it.jinja",
        "meta-llama-Llama-3.1-8B-Instruct.jinja", "microsoft-Phi-3.5-mini-instruct.jinja",
        "mistralai-Mistral-Nemo-Instruct-2407.jinja"}) {
    int count = 0;
    for (const Json& c : cases) {
      if (c.contains("template_file") && c["template_file"] == file && c.contains("expected")) {
        ++count;
      }
    }
    EXPECT_GE(count, 3) << file;
  }
}

}  // namespace
}  // namespace autan::jinja
