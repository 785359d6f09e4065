// autan tokenize: token ids of a text; needs only the vocabulary, so it works
// on vocab-only GGUF files and on bare tokenizer files (tekken.json,
// tokenizer.model, tokenizer.json).
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "formats/gguf.h"
#include "model/vocab_gguf.h"
#include "tokenizer/tokenizer_file.h"

namespace autan::cli {

namespace {

bool IsGguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof(magic)) && std::string_view(magic, 4) == "GGUF";
}

Result<Tokenizer> OpenTokenizer(const std::string& path) {
  if (!IsGguf(path)) return LoadTokenizerFile(path);
  Result<gguf::File> file = gguf::File::Open(path);
  if (!file.ok()) return file.error();
  Result<Tokenizer> tokenizer = TokenizerFromGguf(*file);
  if (!tokenizer.ok()) return Fail("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  return tokenizer;
}

}  // namespace

CommandFn AddTokenizeCommand(CLI::App& app) {
  struct Flags {
    std::string model, text, file;
    bool ids = false, no_add_special = false, parse_special = false;
    bool text_given = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the tokens of a text");
  cmd->add_option("-m,--model", f->model,
                  "Model (GGUF) or tokenizer file (tekken.json, tokenizer.model, tokenizer.json)")
      ->required();
  auto* text = cmd->add_option("--text", f->text, "Text to tokenize");
  auto* file = cmd->add_option("--file", f->file, "File whose content to tokenize");
  text->excludes(file);
  cmd->callback([f, text] { f->text_given = text->count() > 0; });
  cmd->add_flag("--ids", f->ids, "Print only the ids, space-separated, on one line");
  cmd->add_flag("--no-add-special", f->no_add_special, "Do not add BOS/EOS");
  cmd->add_flag("--parse-special", f->parse_special, "Read special tokens written in the text");
  return [f] {
    std::string input = f->text;
    if (!f->file.empty()) {
      std::ifstream in(f->file, std::ios::binary);
      if (!in) return Report(f->file + ": cannot open", kExitBadInput);
      std::ostringstream content;
      content << in.rdbuf();
      input = content.str();
    } else if (!f->text_given) {
      return Report("tokenize: give --text or --file", kExitBadInput);
    }
    Result<Tokenizer> tokenizer = OpenTokenizer(f->model);
    if (!tokenizer.ok()) return Report(tokenizer.error().message, kExitBadInput);
    const std::vector<int32_t> ids = tokenizer->Encode(
        input, {.add_special = !f->no_add_special, .parse_special = f->parse_special});
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (f->ids) {
        line += (i ? " " : "") + std::to_string(ids[i]);
      } else {
        line += std::to_string(ids[i]) + " '" + tokenizer->TokenPiece(ids[i]) + "'\n";
      }
    }
    std::cout << line << (f->ids ? "\n" : "");
    return 0;
  };
}

}  // namespace autan::cli
