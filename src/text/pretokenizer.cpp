#include "text/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

#include "text/unicode.h"
#include "util/error.h"

namespace dawn {

namespace {

// Split patterns as each family's tokenizer.json writes them. Hugging Face runs them with Oniguruma,
// whose classes are Unicode 16.0's; PCRE2 with UTF + UCP has the same semantics once the \p{..} are
// rewritten to Unicode 16.0 before compiling (PreTokenizer::unicode16_pattern).
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
// DeepSeek-LLM (V2-Lite style) and DeepSeek-Coder, as llama.cpp splits them. Non-ASCII
// characters are written \x{...}: the class endpoints include singletons (U+1F7D, U+1FBE,
// U+2126, U+212A, ...) that any Unicode normalization of this source would silently change.
const char* const kDeepseekLlm[] = {
    "[\r\n]",
    "\\s?["
    "A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}-\\x{377}\\x{37B}-\\x{37D}"
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
    "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"
    "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
    "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"
    "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}-\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}-\\x{2CF3}"
    "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"
    "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
    "\\x{1E900}-\\x{1E943}"
    "]+",
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$",
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
};
const char* const kDeepseekCoder[] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                                      "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"};

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

// "\x{AA}\x{B5}\x{C0}-\x{D6}...": ranges as the inside of a PCRE2 class.
std::string class_text(std::span<const CodeRange> ranges) {
  std::string s;
  char buf[32];
  for (const CodeRange& r : ranges) {
    if (r.first == r.last)
      std::snprintf(buf, sizeof buf, "\\x{%X}", r.first);
    else
      std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", r.first, r.last);
    s += buf;
  }
  return s;
}

// Unicode 16.0 general category `major` as the inside of a PCRE2 class, for a PCRE2 whose tables
// are of Unicode version `pcre2_unicode`. PCRE2 looks its own \p{..} up in two-level tables, a few
// reads per character, while it scans a class of explicit ranges one range after another: spelling
// \p{L} as its 677 ranges made bench/tokenizer.sh 1.2 to 1.7 times slower. So PCRE2's own class is
// kept where its tables are Unicode 16.0, or Unicode 14.0 plus the ranges 15.0 to 16.0 added (about
// 1.1 times slower); other versions get all the ranges.
std::string class_body(char major, std::string_view pcre2_unicode) {
  const std::string own = std::string("\\p{") + major + "}";
  if (pcre2_unicode == "16.0.0") return own;
  if (pcre2_unicode == "14.0.0") return own + class_text(unicode_category_since14(major));
  return class_text(unicode_category(major));
}

}  // namespace

// PCRE2's own \p{..} follow the Unicode tables it was built with (Debian 12's 10.42: Unicode 14), so
// characters of Unicode 15 and 16 would split differently from Hugging Face. Each \p{L}, \p{M},
// \p{N}, \p{P} or \p{S} is spliced in where it stands inside a [...] class (negated ones too:
// [^\s\p{L}] excludes it all) and wrapped in [...] where it stands alone (so \p{N}{1,3} repeats the
// class). Any other property would silently keep PCRE2's tables, so it is an error.
std::string PreTokenizer::unicode16_pattern(std::string_view p, std::string_view pcre2_unicode) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      if (p[i + 1] == 'p' || p[i + 1] == 'P') {
        const bool known = p[i + 1] == 'p' && i + 4 < p.size() && p[i + 2] == '{' && p[i + 4] == '}' &&
                           std::string_view("LMNPS").find(p[i + 3]) != std::string_view::npos;
        if (!known)
          throw Error("tokenizer: split pattern uses " + std::string(p.substr(i, 6)) +
                      "..., which dawn has no Unicode 16 table for");
        const std::string body = class_body(p[i + 3], pcre2_unicode);
        out += in_class ? body : "[" + body + "]";
        i += 4;
        continue;
      }
      out += p.substr(i, 2);  // any other escape, \[ \] \\ included, stays as it is
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is a literal
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(std::string name, const std::vector<std::string>& patterns, bool nfc, bool ignore_merges)
    : name_(std::move(name)), nfc_(nfc), ignore_merges_(ignore_merges) {
  char unicode[32] = "";
  pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, unicode);
  for (const std::string& pattern : patterns) {
    const std::string p = unicode16_pattern(pattern, unicode);
    int err;
    PCRE2_SIZE off;
    // Oniguruma's Ruby syntax lets $ match before any newline: PCRE2_MULTILINE.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &err, &off, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw Error("tokenizer: split pattern of pre-tokenizer '" + name_ + "' does not compile at offset " +
                  std::to_string(off) + ": " + reinterpret_cast<const char*>(msg));
    }
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

namespace {

// Non-ASCII characters as \x{HEX}, so a pattern written either way compares equal.
std::string canonical(std::string_view p) {
  std::string out;
  for (size_t i = 0; i < p.size();) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      out += char(c);
      ++i;
      continue;
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\x{%X}", utf8_next(p, &i));
    out += buf;
  }
  return out;
}

}  // namespace

std::string PreTokenizer::name_for_patterns(const std::vector<std::string>& patterns) {
  std::vector<std::string> want;
  for (const std::string& p : patterns) want.push_back(canonical(p));
  // Aliases share patterns; prefer the canonical name.
  for (const char* n : {"qwen2", "llama-bpe", "deepseek-v3", "deepseek-llm", "deepseek-coder", "gpt2"}) {
    const auto& have = specs().at(n).patterns;
    if (have.size() != want.size()) continue;
    bool same = true;
    for (size_t i = 0; i < want.size(); ++i) same = same && canonical(have[i]) == want[i];
    if (same) return n;
  }
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
