#include "text/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "text/pretokenizer.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {

namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
}

// Split patterns in application order; ByteLevel with use_regex splits with GPT-2's pattern.
void collect_patterns(const json& pt, const std::string& path, std::vector<std::string>& out, bool& byte_level) {
  if (pt.is_null()) return;
  const std::string type = pt.value("type", "");
  if (type == "Sequence") {
    for (const json& p : pt.at("pretokenizers")) collect_patterns(p, path, out, byte_level);
  } else if (type == "Split") {
    const json& pat = pt.at("pattern");
    if (!pat.contains("Regex") || pt.value("behavior", "") != "Isolated" || pt.value("invert", false)) {
      throw Error(path + ": field 'pre_tokenizer': only Isolated regex splits are supported (got " + pt.dump() + ")");
    }
    out.push_back(pat.at("Regex").get<std::string>());
  } else if (type == "ByteLevel") {
    byte_level = true;
    if (pt.value("add_prefix_space", false))
      throw Error(path + ": field 'pre_tokenizer': ByteLevel add_prefix_space=true is not supported");
    if (pt.value("use_regex", true)) {
      out.push_back(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
    }
  } else {
    throw Error(path + ": field 'pre_tokenizer': unsupported type '" + type + "'");
  }
}

// tokenizer_config.json writes special tokens as a string or an AddedToken object.
std::string token_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v.at("content").get<std::string>();
  return "";
}

}  // namespace

HfVocab load_hf_tokenizer(const std::string& path) {
  const json tj = read_json(path);
  HfVocab v;
  try {
    const json& model = tj.at("model");
    if (model.value("type", "") != "BPE")
      throw Error(path + ": field 'model.type' is '" + model.value("type", "") + "' (dawn reads byte-level BPE)");
    if (model.value("byte_fallback", false)) throw Error(path + ": field 'model.byte_fallback' is true (unsupported)");

    std::vector<std::string> patterns;
    bool byte_level = false;
    collect_patterns(tj.value("pre_tokenizer", json()), path, patterns, byte_level);
    if (!byte_level) throw Error(path + ": field 'pre_tokenizer' has no ByteLevel step (dawn reads byte-level BPE)");
    v.pre = PreTokenizer::name_for_patterns(patterns);
    if (v.pre.empty()) {
      throw Error(path + ": field 'pre_tokenizer': split patterns match none of dawn's pre-tokenizers");
    }
    const json& norm = tj.value("normalizer", json());
    bool nfc = false;
    if (!norm.is_null()) {
      const std::string nt = norm.value("type", "");
      if (nt == "NFC") {
        nfc = true;
      } else if (!(nt == "Sequence" && norm.value("normalizers", json::array()).empty())) {
        throw Error(path + ": field 'normalizer': type '" + nt + "' is not supported");
      }
    }
    if (nfc != PreTokenizer::get(v.pre).nfc()) {
      throw Error(path + ": field 'normalizer': " + (nfc ? "NFC" : "none") + " does not match pre-tokenizer '" + v.pre +
                  "'");
    }
    if (model.value("ignore_merges", false) != PreTokenizer::get(v.pre).ignore_merges()) {
      throw Error(path + ": field 'model.ignore_merges' does not match pre-tokenizer '" + v.pre + "'");
    }

    std::map<int64_t, std::pair<std::string, int32_t>> by_id;
    for (const auto& [tok, id] : model.at("vocab").items()) by_id[id.get<int64_t>()] = {tok, kTokNormal};
    for (const json& a : tj.value("added_tokens", json::array())) {
      by_id[a.at("id").get<int64_t>()] = {a.at("content").get<std::string>(),
                                          a.value("special", false) ? kTokControl : kTokUserDefined};
    }
    if (by_id.empty() || by_id.begin()->first < 0 || by_id.rbegin()->first > (int64_t(1) << 24))
      throw Error(path + ": field 'model.vocab': token ids out of range");
    const int64_t n = by_id.rbegin()->first + 1;
    v.tokens.resize(size_t(n));
    v.types.assign(size_t(n), kTokUnused);
    for (int64_t i = 0; i < n; ++i) v.tokens[size_t(i)] = "[PAD" + std::to_string(i) + "]";
    for (const auto& [id, tt] : by_id) {
      v.tokens[size_t(id)] = tt.first;
      v.types[size_t(id)] = tt.second;
    }
    for (const json& m : model.at("merges")) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else {
        v.merges.push_back(m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
      }
    }

    // Post-processor: does a single sequence get BOS/EOS?
    std::string post_first, post_last;
    std::function<void(const json&)> scan_post = [&](const json& p) {
      if (p.is_null()) return;
      if (p.value("type", "") == "Sequence") {
        for (const json& q : p.at("processors")) scan_post(q);
      } else if (p.value("type", "") == "TemplateProcessing") {
        const json& single = p.at("single");
        if (!single.empty() && single.front().contains("SpecialToken"))
          post_first = single.front().at("SpecialToken").at("id").get<std::string>();
        if (!single.empty() && single.back().contains("SpecialToken"))
          post_last = single.back().at("SpecialToken").at("id").get<std::string>();
      }
    };
    scan_post(tj.value("post_processor", json()));

    const auto id_of = [&](const std::string& text) -> int32_t {
      if (text.empty()) return -1;
      for (int64_t i = 0; i < n; ++i)
        if (v.tokens[size_t(i)] == text) return int32_t(i);
      return -1;
    };
    const std::string cfg_path = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
    json cfg = json::object();
    if (std::filesystem::exists(cfg_path)) cfg = read_json(cfg_path);
    v.bos = id_of(token_text(cfg.value("bos_token", json())));
    v.eos = id_of(token_text(cfg.value("eos_token", json())));
    v.pad = id_of(token_text(cfg.value("pad_token", json())));
    if (v.bos < 0 && !post_first.empty()) v.bos = id_of(post_first);
    v.add_bos = cfg.contains("add_bos_token") ? cfg.at("add_bos_token").get<bool>()
                                              : (!post_first.empty() && id_of(post_first) == v.bos);
    v.add_eos = cfg.contains("add_eos_token") ? cfg.at("add_eos_token").get<bool>()
                                              : (!post_last.empty() && id_of(post_last) == v.eos);
    const json& ct = cfg.value("chat_template", json());
    if (ct.is_string()) {
      v.chat_template = ct.get<std::string>();
    } else if (ct.is_array()) {  // named templates: the default one
      for (const json& t : ct)
        if (t.value("name", "") == "default") v.chat_template = t.value("template", "");
    }
  } catch (const json::exception& e) {
    throw Error(path + ": unexpected tokenizer.json layout (" + e.what() + ")");
  }
  return v;
}

void write_vocab_metadata(const HfVocab& v, GgufWriter& w) {
  w.set_str("tokenizer.ggml.model", "gpt2");
  w.set_str("tokenizer.ggml.pre", v.pre);
  w.set_str_array("tokenizer.ggml.tokens", v.tokens);
  w.set_i32_array("tokenizer.ggml.token_type", v.types);
  w.set_str_array("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos));
  if (v.eos >= 0) w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos));
  if (v.pad >= 0) w.set_u32("tokenizer.ggml.padding_token_id", uint32_t(v.pad));
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (!v.chat_template.empty()) w.set_str("tokenizer.chat_template", v.chat_template);
}

}  // namespace dawn
