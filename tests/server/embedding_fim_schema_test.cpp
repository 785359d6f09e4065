// Request and response shapes of /v1/embeddings (OpenAI's, with Mistral's
// names) and /v1/fim/completions (Mistral's).
#include <gtest/gtest.h>

#include "core/base64.h"
#include "server/mistral_schema.h"
#include "server/openai_schema.h"

namespace autan::server {
namespace {

constexpr int32_t kVocab = 32000;
constexpr int32_t kDim = 256;

std::optional<ApiError> Embedding(const std::string& body, EmbeddingRequest& out) {
  Json j;
  if (auto e = ParseJsonBody(body, j)) return e;
  return ParseEmbeddingRequest(j, kVocab, kDim, out);
}

std::string EmbeddingParam(const std::string& body) {
  EmbeddingRequest r;
  std::optional<ApiError> e = Embedding(body, r);
  if (!e) return "ok";
  EXPECT_EQ(e->status, 400) << body;
  EXPECT_FALSE(e->message.empty());
  return e->param;
}

TEST(EmbeddingRequest, InputShapes) {
  EmbeddingRequest a;
  ASSERT_FALSE(Embedding(R"({"model": "m", "input": "hello"})", a));
  EXPECT_EQ(a.model, "m");
  EXPECT_EQ(a.texts, std::vector<std::string>{"hello"});
  EXPECT_FALSE(a.ids_given);
  EXPECT_FALSE(a.base64);
  EmbeddingRequest b;
  ASSERT_FALSE(Embedding(R"({"input": ["a", "b", "c"], "encoding_format": "base64"})", b));
  EXPECT_EQ(b.texts, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(b.base64);
  EmbeddingRequest c;
  ASSERT_FALSE(Embedding(R"({"input": [1, 15043], "dimensions": 256})", c));
  EXPECT_TRUE(c.ids_given);
  EXPECT_EQ(c.ids, (std::vector<std::vector<int32_t>>{{1, 15043}}));
  EmbeddingRequest d;
  ASSERT_FALSE(Embedding(R"({"input": [[1, 2], [3]], "output_dimension": 256})", d));
  EXPECT_EQ(d.ids, (std::vector<std::vector<int32_t>>{{1, 2}, {3}}));
}

TEST(EmbeddingRequest, NamesTheBadField) {
  EXPECT_EQ(EmbeddingParam(R"({"model": "m"})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": ""})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": ["a", ""]})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": []})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": [1, 32000]})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": [[1], []]})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": {"text": "a"}})"), "input");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "dimensions": 128})"), "dimensions");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "dimensions": 0})"), "dimensions");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "output_dimension": 512})"), "output_dimension");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "encoding_format": "int8"})"), "encoding_format");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "output_dtype": "int8"})"), "output_dtype");
  EXPECT_EQ(EmbeddingParam(R"({"input": "a", "model": 3})"), "model");
  EmbeddingRequest r;
  std::optional<ApiError> e = Embedding(R"({"input": "a", "dimensions": 128})", r);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("256"), std::string::npos) << e->message;
}

TEST(EmbeddingResponse, FloatsAndBase64) {
  const ResponseMeta meta{"embd-1", 0, "tiny"};
  const std::vector<std::vector<float>> data = {{1.0f, -2.5f, 0.1f}, {1.0f, -2.5f}};
  Usage usage{.prompt_tokens = 7, .energy_joules = 3.6e6, .energy_source = EnergySource::kRapl};
  PriceUsage(EnergyPricing{.grid_gco2_per_kwh = 50, .pue = 1.2, .kwh_price = 0.2}, usage);
  const Json floats = EmbeddingListObject(meta, data, false, usage);
  EXPECT_EQ(floats["object"], "list");
  EXPECT_EQ(floats["model"], "tiny");
  EXPECT_EQ(floats["id"], "embd-1");
  // One kWh at PUE 1.2: 60 g at 50 g/kWh, 0.24 at 0.2 per kWh.
  EXPECT_EQ(floats["usage"], Json({{"prompt_tokens", 7},
                                   {"total_tokens", 7},
                                   {"energy_joules", 3.6e6},
                                   {"energy_source", "rapl"},
                                   {"co2e_grams", 60.0},
                                   {"cost", 0.24},
                                   {"cost_currency", "EUR"}}));
  ASSERT_EQ(floats["data"].size(), 2u);
  EXPECT_EQ(floats["data"][1]["object"], "embedding");
  EXPECT_EQ(floats["data"][1]["index"], 1);
  EXPECT_EQ(floats["data"][0]["embedding"][2].get<float>(), 0.1f);
  // Python: base64.b64encode(struct.pack('<3f', 1.0, -2.5, 0.1))
  const Json b64 = EmbeddingListObject(meta, data, true, Usage{.prompt_tokens = 7});
  EXPECT_EQ(b64["data"][0]["embedding"], "AACAPwAAIMDNzMw9");
  EXPECT_EQ(b64["data"][1]["embedding"], "AACAPwAAIMA=");
  EXPECT_EQ(Base64("a"), "YQ==");
  EXPECT_EQ(Base64("ab"), "YWI=");
  EXPECT_EQ(Base64(""), "");
}

std::optional<ApiError> Fim(const std::string& body, FimRequest& out) {
  Json j;
  if (auto e = ParseJsonBody(body, j)) return e;
  return ParseFimRequest(j, kVocab, out);
}

TEST(FimRequest, ReadsMistralsFields) {
  FimRequest r;
  ASSERT_FALSE(Fim(R"({"model": "codestral", "prompt": "def f(", "suffix": "return x",
      "max_tokens": 64, "min_tokens": 4, "temperature": 0.2, "top_p": 0.9,
      "stop": ["\n\n"], "random_seed": 7, "stream": true})",
                   r));
  EXPECT_EQ(r.gen.model, "codestral");
  EXPECT_EQ(r.prompt, "def f(");
  EXPECT_EQ(r.suffix, "return x");
  EXPECT_EQ(r.gen.max_tokens, 64);
  EXPECT_EQ(r.min_tokens, 4);
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 0.2f);
  EXPECT_FLOAT_EQ(r.gen.sampling.top_p, 0.9f);
  EXPECT_EQ(r.gen.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(r.gen.seed, 7u);
  EXPECT_TRUE(r.gen.stream);
  FimRequest plain;
  ASSERT_FALSE(Fim(R"({"prompt": "x", "suffix": null})", plain));
  EXPECT_EQ(plain.suffix, "");
  EXPECT_EQ(plain.min_tokens, 0);
}

TEST(FimRequest, NamesTheBadField) {
  auto param = [](const std::string& body) {
    FimRequest r;
    std::optional<ApiError> e = Fim(body, r);
    return e ? e->param : std::string("ok");
  };
  EXPECT_EQ(param(R"({"suffix": "x"})"), "prompt");
  EXPECT_EQ(param(R"({"prompt": 3})"), "prompt");
  EXPECT_EQ(param(R"({"prompt": "a", "suffix": ["b"]})"), "suffix");
  EXPECT_EQ(param(R"({"prompt": "a", "min_tokens": -1})"), "min_tokens");
  EXPECT_EQ(param(R"({"prompt": "a", "min_tokens": 9, "max_tokens": 8})"), "min_tokens");
  EXPECT_EQ(param(R"({"prompt": "a", "random_seed": "x"})"), "random_seed");
  EXPECT_EQ(param(R"({"prompt": "a", "temperature": 3})"), "temperature");
}

}  // namespace
}  // namespace autan::server
