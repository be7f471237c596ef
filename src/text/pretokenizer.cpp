#include "text/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <map>

#include "util/error.h"

namespace dawn {

namespace {

// Split patterns as each family's tokenizer.json writes them (Hugging Face
// runs them with Oniguruma; PCRE2 with UTF + UCP gives the same classes).
const char* const kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kDeepseek3[] = {
    R"(\p{N}{1,3})",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^)"
    "\r\n"
    R"(\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[)"
    "\r\n"
    R"(]*|\s*[)"
    "\r\n"
    R"(]+|\s+(?!\S)|\s+)",
};
const char* const kDeepseekLlm[] = {
    "[\r\n]",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-"
    "ὅὈ-"
    "Ὅὐ-"
    "ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌ"
    "ῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-"
    "𐑏𐒰-"
    "𐓓𐓘-"
    "𐓻𐲀-𐲲𐳀-𐳲"
    "𑢠-𑣟𞤀-𞥃]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}+",
};
const char* const kDeepseekCoder[] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"};

struct Spec {
  std::vector<std::string> patterns;
  bool nfc = false, ignore_merges = false;
};

const std::map<std::string, Spec>& specs() {
  static const std::map<std::string, Spec> m = [] {
    std::map<std::string, Spec> s;
    s["gpt2"] = {{kGpt2}};
    s["llama-bpe"] = {{kLlama3}, false, true};
    // Qwen2/2.5/3 and the R1 Qwen distills: NFC normalizer, single digits.
    s["qwen2"] = {{kQwen2}, true, false};
    s["deepseek-r1-qwen"] = s["qwen2"];
    s["deepseek-v3"] = {{std::begin(kDeepseek3), std::end(kDeepseek3)}};
    s["deepseek-llm"] = {{std::begin(kDeepseekLlm), std::end(kDeepseekLlm)}};
    s["deepseek-coder"] = {{std::begin(kDeepseekCoder), std::end(kDeepseekCoder)}};
    return s;
  }();
  return m;
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(std::string name, const std::vector<std::string>& patterns, bool nfc, bool ignore_merges)
    : name_(std::move(name)), nfc_(nfc), ignore_merges_(ignore_merges) {
  for (const std::string& p : patterns) {
    int err;
    PCRE2_SIZE off;
    // Oniguruma's Ruby syntax lets $ match before any newline: PCRE2_MULTILINE.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &err, &off, nullptr);
    if (!code) throw Error("tokenizer: split pattern of pre-tokenizer '" + name_ + "' does not compile");
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
    auto r = std::make_unique<Regex>();
    r->code = code;
    regexes_.push_back(std::move(r));
  }
}

PreTokenizer::~PreTokenizer() = default;

const PreTokenizer& PreTokenizer::get(const std::string& name) {
  static std::map<std::string, std::unique_ptr<PreTokenizer>> built;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto it = built.find(name);
  if (it != built.end()) return *it->second;
  auto s = specs().find(name);
  if (s == specs().end()) {
    std::string known;
    for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown pre-tokenizer '" + name + "' (dawn knows " + known + ")");
  }
  auto p =
      std::unique_ptr<PreTokenizer>(new PreTokenizer(name, s->second.patterns, s->second.nfc, s->second.ignore_merges));
  return *built.emplace(name, std::move(p)).first->second;
}

std::vector<std::string> PreTokenizer::names() {
  std::vector<std::string> n;
  for (const auto& [k, v] : specs()) n.push_back(k);
  return n;
}

std::string PreTokenizer::name_for_patterns(const std::vector<std::string>& patterns) {
  // Aliases share patterns; prefer the canonical name.
  for (const char* n : {"qwen2", "llama-bpe", "deepseek-v3", "deepseek-llm", "deepseek-coder", "gpt2"})
    if (specs().at(n).patterns == patterns) return n;
  return "";
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  std::vector<std::string_view> cur{text}, next;
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  for (const auto& re : regexes_) {
    next.clear();
    for (std::string_view piece : cur) {
      size_t pos = 0, gap = 0;  // gap: start of text not yet emitted
      uint32_t opts = 0;        // the first match validates the UTF-8; later ones skip the check
      while (pos < piece.size()) {
        const int rc =
            pcre2_match(re->code, reinterpret_cast<PCRE2_SPTR>(piece.data()), piece.size(), pos, opts, md, nullptr);
        if (rc < 0) break;  // no further match (or invalid UTF-8: the rest stays one piece)
        opts = PCRE2_NO_UTF_CHECK;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) {  // empty match: step one character
          pos = ov[0] + 1;
          while (pos < piece.size() && (uint8_t(piece[pos]) & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (ov[0] > gap) next.push_back(piece.substr(gap, ov[0] - gap));
        next.push_back(piece.substr(ov[0], ov[1] - ov[0]));
        gap = pos = ov[1];
      }
      if (gap < piece.size()) next.push_back(piece.substr(gap));
    }
    std::swap(cur, next);
  }
  pcre2_match_data_free(md);
  out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace dawn
