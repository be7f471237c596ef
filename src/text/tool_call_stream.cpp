// ToolCallStream: the incremental tool-call parser, one state machine over the formats of
// tool_calls.h. Input waits in buf_ until a state can decide on it; what a state takes moves
// to raw_, which becomes content verbatim if the call it belongs to fails.
#include <optional>

#include "text/json_scan.h"
#include "text/tool_call_markers.h"
#include "text/tool_call_object.h"
#include "text/tool_calls.h"
#include "text/unicode.h"

namespace dawn {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Longest DeepSeek type or name kept, and longest fence language tag: real ones are short.
constexpr size_t kMaxName = 512, kMaxFenceTag = 16;
constexpr std::string_view kQwenOpen = "<tool_call>", kQwenClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>", kFence = "```";

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && is_ws(s[a])) ++a;
  while (b > a && is_ws(s[b - 1])) --b;
  return std::string(s.substr(a, b - a));
}

}  // namespace

struct ToolCallStream::Impl {
  enum State : uint8_t {
    Text,         // content, watching for an opener
    Pass,         // content to the end (a call failed, or the format has none)
    DsOpen,       // after <｜tool▁calls▁begin｜>
    DsHead,       // after <｜tool▁call▁begin｜>: the type (V3) or name (V3.1), up to <｜tool▁sep｜>
    DsAfterSep,   // the arguments (V3.1) or the name's line (V3) follow
    DsName,       // V3: the name, up to the end of its line
    DsFence,      // V3: ```json, or the bare arguments
    DsFenceTag,   // the fence's language tag
    DsArgsStart,  // the arguments object opens
    DsArgs,       // inside the arguments
    DsAfterArgs,  // the closing fence (if opened), then <｜tool▁call▁end｜>
    DsAfterCall,  // another call, <｜tool▁calls▁end｜>, or content
    QwObj,        // inside <tool_call>: the object
    QwClose,      // </tool_call>
    LlObj,        // a Llama 3.1 call object
    LlAfterCall,  // ';' or newlines, then another call, or content
  };

  ToolCallFormat fmt;
  uint64_t seed;
  State st;
  std::string buf_;  // input not yet taken: buf_[pos_..]
  size_t pos_ = 0;
  std::string raw_;                 // taken since content was last emitted or a call last ended
  bool skip_ws_ = false;            // drop whitespace before the next content (a call just ended)
  bool answer_start_ = true;        // Llama3: nothing but whitespace so far
  size_t calls_ = 0;                // calls begun and not aborted
  bool begun_ = false;              // Begin was emitted for the call being read
  bool fenced_ = false;             // DeepSeek: a ``` fence awaits its closing
  std::string head_, name_, args_;  // args_: argument bytes not yet emitted
  JsonScanner json_{256};
  std::optional<CallObjectParser> obj_;
  const Sink* sink_ = nullptr;

  Impl(ToolCallFormat f, uint64_t s) : fmt(f), seed(s), st(f == ToolCallFormat::None ? Pass : Text) {}

  std::string_view in() const { return std::string_view(buf_).substr(pos_); }
  void take(size_t n) {
    raw_.append(buf_, pos_, n);
    pos_ += n;
  }
  // Emits the next n bytes as content; once some is, what was taken before it is settled
  // (whitespace dropped after a call stays dropped).
  void content(size_t n) {
    if (n == 0) return;
    sink_->operator()({ToolCallEvent::Content, 0, in().substr(0, n), {}});
    answer_start_ = false;
    pos_ += n;
    raw_.clear();
  }
  // Takes leading whitespace; false if nothing else is there yet.
  bool take_ws() {
    const std::string_view s = in();
    size_t i = 0;
    while (i < s.size() && is_ws(s[i])) ++i;
    take(i);
    return i < s.size();
  }
  bool in_call() const { return st != Text && st != Pass && st != DsAfterCall && st != LlAfterCall; }

  void begin(std::string name) {
    name_ = std::move(name);
    const std::string id = tool_call_id(seed, calls_);
    sink_->operator()({ToolCallEvent::Begin, calls_, name_, id});
    begun_ = true;
    ++calls_;
    flush_args(false);
  }
  void flush_args(bool all) {
    if (!begun_ || args_.empty()) return;
    const size_t n = all ? args_.size() : utf8_complete_prefix(args_);
    if (n == 0) return;
    sink_->operator()({ToolCallEvent::Arguments, calls_ - 1, std::string_view(args_).substr(0, n), {}});
    args_.erase(0, n);
  }
  void end_call() {
    flush_args(true);
    sink_->operator()({ToolCallEvent::End, calls_ - 1, {}, {}});
    begun_ = false;
    raw_.clear();
    head_.clear(), name_.clear(), args_.clear();
  }
  // The call being read is none: what it took is content, and so is all that follows.
  void fail() {
    if (begun_) {
      --calls_;
      sink_->operator()({ToolCallEvent::Abort, calls_, raw_, {}});
    } else if (!raw_.empty()) {
      sink_->operator()({ToolCallEvent::Content, 0, raw_, {}});
    }
    begun_ = false;
    raw_.clear();
    head_.clear(), name_.clear(), args_.clear();
    st = Pass;
  }

  // One move of the machine; false when it needs more input than there is.
  bool step(bool at_end);
  bool step_text(bool at_end);
  bool step_object(bool llama);
  void run(bool at_end) {
    while (step(at_end)) {
    }
    if (at_end && in_call()) {  // cut off inside a call
      fail();
      while (step(true)) {
      }
    }
    buf_.erase(0, pos_);
    pos_ = 0;
  }
};

// The first opener in the text, or where one may be starting when the text ends.
bool ToolCallStream::Impl::step_text(bool at_end) {
  if (skip_ws_) {
    if (!take_ws()) return false;
    skip_ws_ = false;
  }
  const std::string_view s = in();
  if (fmt == ToolCallFormat::Llama3 && answer_start_) {
    // A bare JSON object as the answer may be a call: hold it until it says.
    size_t j = 0;
    while (j < s.size() && is_ws(s[j])) ++j;
    if (j == s.size()) {
      if (at_end) content(s.size());
      return false;
    }
    if (s[j] == '{') {
      take(j);
      obj_.emplace(CallObjectParser::Options{true, true});
      st = LlObj;
      answer_start_ = false;
      return true;
    }
    answer_start_ = false;
  }
  for (size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i + 1)) {
    const std::string_view t = s.substr(i);
    MarkerMatch m;
    State next = Text;
    if (fmt == ToolCallFormat::Qwen) {
      m = match_literal(t, kQwenOpen), next = QwObj;
    } else if (fmt == ToolCallFormat::Llama3) {
      m = match_literal(t, kPythonTag), next = LlObj;
    } else {  // DeepSeek: the distills may skip the outer opener
      m = match_deepseek(t, DsMarker::CallsBegin), next = DsOpen;
      if (m.kind != MarkerMatch::Full) {
        const MarkerMatch m2 = match_deepseek(t, DsMarker::CallBegin);
        if (m2.kind == MarkerMatch::Full || m.kind == MarkerMatch::No) m = m2, next = DsHead;
      }
    }
    if (m.kind == MarkerMatch::No || (m.kind == MarkerMatch::Partial && at_end)) continue;
    size_t e = i;  // whitespace before an opener is dropped
    while (e > 0 && is_ws(s[e - 1])) --e;
    content(e);
    if (m.kind == MarkerMatch::Partial) return false;
    take(i - e + m.len);
    st = next;
    answer_start_ = false;
    head_.clear();
    if (next == QwObj) obj_.emplace(CallObjectParser::Options{false, false});
    if (next == LlObj) obj_.emplace(CallObjectParser::Options{true, true});
    return true;
  }
  if (at_end) {
    content(s.size());
    return false;
  }
  size_t e = s.size();  // trailing whitespace may precede an opener
  while (e > 0 && is_ws(s[e - 1])) --e;
  content(e == s.size() ? utf8_complete_prefix(s) : e);
  return false;
}

// The name/arguments object of a Qwen or Llama 3.1 call.
bool ToolCallStream::Impl::step_object(bool llama) {
  const std::string_view s = in();
  for (size_t i = 0; i < s.size(); ++i) {
    const auto r = obj_->push(s[i], args_);
    if (r == CallObjectParser::Fail) {
      take(i);
      fail();
      return true;
    }
    // A Llama call is a bare object: it is one only once it has both name and arguments.
    if (!begun_ && !obj_->name().empty() && (!llama || obj_->has_arguments())) begin(obj_->name());
    if (r == CallObjectParser::Done) {
      take(i + 1);
      if (!obj_->has_arguments()) args_ = "{}";
      if (llama) {
        end_call();
        st = LlAfterCall;
      } else {
        flush_args(true);
        st = QwClose;
      }
      return true;
    }
  }
  take(s.size());
  flush_args(false);
  return false;
}

bool ToolCallStream::Impl::step(bool at_end) {
  switch (st) {
    case Text: return step_text(at_end);
    case Pass: {
      const std::string_view s = in();
      content(at_end ? s.size() : utf8_complete_prefix(s));
      return false;
    }
    case DsOpen: {
      if (!take_ws()) return false;
      const MarkerMatch m = match_deepseek(in(), DsMarker::CallBegin);
      if (m.kind == MarkerMatch::Full) {
        take(m.len);
        st = DsHead;
        return true;
      }
      const MarkerMatch e = match_deepseek(in(), DsMarker::CallsEnd);
      if (e.kind == MarkerMatch::Full) {  // an empty block: nothing to keep
        take(e.len);
        raw_.clear();
        st = Text;
        skip_ws_ = true;
        return true;
      }
      if (m.kind == MarkerMatch::Partial || e.kind == MarkerMatch::Partial) return false;
      fail();
      return true;
    }
    case DsHead: {
      const std::string_view s = in();
      for (size_t i = 0; i < s.size(); ++i) {
        if (head_.size() + i > kMaxName || s[i] == '\n') break;
        if (s[i] != '<') continue;
        const MarkerMatch m = match_deepseek(s.substr(i), DsMarker::Sep);
        if (m.kind == MarkerMatch::No) break;
        head_.append(s.substr(0, i));
        take(i + m.len);
        if (m.kind == MarkerMatch::Partial) return false;
        st = DsAfterSep;
        return true;
      }
      if (head_.size() + s.size() <= kMaxName && s.find_first_of("\n<") == std::string_view::npos) {
        head_.append(s);
        take(s.size());
        return false;
      }
      fail();
      return true;
    }
    case DsAfterSep:
      if (!take_ws()) return false;
      if (in()[0] == '{') {  // V3.1: the head was the name
        const std::string name = trim(head_);
        if (name.empty()) {
          fail();
          return true;
        }
        name_ = name;
        fenced_ = false;
        st = DsArgsStart;
      } else {  // V3: the head was the type ("function"); the name follows
        name_.clear();
        st = DsName;
      }
      return true;
    case DsName: {
      const std::string_view s = in();
      const size_t i = s.find_first_of("\n`{<");
      const std::string_view part = s.substr(0, i);
      if (name_.size() + part.size() > kMaxName || (i != std::string_view::npos && s[i] == '<')) {
        fail();
        return true;
      }
      name_.append(part);
      take(part.size());
      if (i == std::string_view::npos) return false;
      name_ = trim(name_);
      if (name_.empty()) {
        fail();
        return true;
      }
      st = DsFence;
      return true;
    }
    case DsFence: {
      if (!take_ws()) return false;
      if (in()[0] == '{') {
        fenced_ = false;
        st = DsArgsStart;
        return true;
      }
      const MarkerMatch m = match_literal(in(), kFence);
      if (m.kind == MarkerMatch::Partial) return false;
      if (m.kind == MarkerMatch::No) {
        fail();
        return true;
      }
      take(m.len);
      fenced_ = true;
      head_.clear();  // now counts the tag's letters
      st = DsFenceTag;
      return true;
    }
    case DsFenceTag: {
      const std::string_view s = in();
      size_t j = 0;
      while (j < s.size() && is_alpha(s[j])) ++j;
      if (head_.size() + j > kMaxFenceTag) {
        fail();
        return true;
      }
      head_.append(s.substr(0, j));
      take(j);
      if (j == s.size()) return false;
      st = DsArgsStart;
      return true;
    }
    case DsArgsStart:
      if (!take_ws()) return false;
      if (in()[0] != '{') {
        fail();
        return true;
      }
      json_.reset();
      args_.clear();
      begin(name_);
      st = DsArgs;
      return true;
    case DsArgs: {
      const std::string_view s = in();
      for (size_t i = 0; i < s.size(); ++i) {
        bool keep = true;
        const auto r = json_.push(s[i], keep);
        if (r == JsonScanner::Fail) {
          take(i);
          fail();
          return true;
        }
        if (keep) args_ += s[i];
        if (r == JsonScanner::Done) {
          take(i + 1);
          flush_args(true);
          st = DsAfterArgs;
          return true;
        }
      }
      take(s.size());
      flush_args(false);
      return false;
    }
    case DsAfterArgs: {
      if (!take_ws()) return false;
      const MarkerMatch m = fenced_ ? match_literal(in(), kFence) : match_deepseek(in(), DsMarker::CallEnd);
      if (m.kind == MarkerMatch::Partial) return false;
      if (m.kind == MarkerMatch::No) {
        fail();
        return true;
      }
      take(m.len);
      if (fenced_) {
        fenced_ = false;
      } else {
        end_call();
        st = DsAfterCall;
      }
      return true;
    }
    case DsAfterCall: {
      if (!take_ws()) return false;
      const MarkerMatch m = match_deepseek(in(), DsMarker::CallBegin);
      if (m.kind == MarkerMatch::Full) {
        take(m.len);
        head_.clear();
        st = DsHead;
        return true;
      }
      const MarkerMatch e = match_deepseek(in(), DsMarker::CallsEnd);
      if (e.kind == MarkerMatch::Full) {
        take(e.len);
        raw_.clear();
        st = Text;
        skip_ws_ = true;
        return true;
      }
      if ((m.kind == MarkerMatch::Partial || e.kind == MarkerMatch::Partial) && !at_end) return false;
      st = Text;  // the block ended without its closer: content follows
      return true;
    }
    case QwObj: return step_object(false);
    case QwClose: {
      if (!take_ws()) return false;
      const MarkerMatch m = match_literal(in(), kQwenClose);
      if (m.kind == MarkerMatch::Partial) return false;
      if (m.kind == MarkerMatch::No) {
        fail();
        return true;
      }
      take(m.len);
      end_call();
      st = Text;
      skip_ws_ = true;
      return true;
    }
    case LlObj: return step_object(true);
    case LlAfterCall: {
      const std::string_view s = in();
      size_t j = 0;
      while (j < s.size() && (is_ws(s[j]) || s[j] == ';')) ++j;
      take(j);
      if (j == s.size()) return false;
      if (s[j] == '{') {
        obj_.emplace(CallObjectParser::Options{true, true});
        st = LlObj;
        return true;
      }
      const MarkerMatch m = match_literal(in(), kPythonTag);
      if (m.kind == MarkerMatch::Full) {
        take(m.len);
        obj_.emplace(CallObjectParser::Options{true, true});
        st = LlObj;
        return true;
      }
      if (m.kind == MarkerMatch::Partial && !at_end) return false;
      st = Text;
      return true;
    }
  }
  return false;
}

ToolCallStream::ToolCallStream(ToolCallFormat format, uint64_t id_seed)
    : impl_(std::make_unique<Impl>(format, id_seed)) {}
ToolCallStream::~ToolCallStream() = default;
ToolCallStream::ToolCallStream(ToolCallStream&&) noexcept = default;
ToolCallStream& ToolCallStream::operator=(ToolCallStream&&) noexcept = default;

void ToolCallStream::feed(std::string_view piece, const Sink& sink) {
  impl_->sink_ = &sink;
  impl_->buf_.append(piece);
  impl_->run(false);
}

void ToolCallStream::finish(const Sink& sink) {
  impl_->sink_ = &sink;
  impl_->run(true);
}

}  // namespace dawn
