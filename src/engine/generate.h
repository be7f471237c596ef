// The generation loop: prompt, then sample until n tokens, an end-of-generation
// token or a stop string. Text is handed out in whole UTF-8 characters, with any
// tail that might begin a stop string held back.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/generation.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "text/vocab.h"

namespace dawn {

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids
  std::string stop_reason;      // "length", "eog", "stop", "context"
};

GenerateResult generate(Session& s, const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p,
                        const std::function<void(const std::string&)>& on_text);

}  // namespace dawn
