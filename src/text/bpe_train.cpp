#include "text/bpe_train.h"

#include <map>
#include <unordered_map>

#include "text/vocab.h"

namespace dawn {

void train_bpe(const std::string& corpus, int n_merges, std::vector<std::string>* tokens,
               std::vector<std::string>* merges) {
  tokens->clear();
  merges->clear();
  for (int b = 0; b < 256; ++b) tokens->push_back(byte_to_unicode(uint8_t(b)));
  // Words: runs split before spaces, so merges never cross a word start.
  std::map<std::vector<std::string>, int> words;
  std::vector<std::string> cur;
  for (unsigned char c : corpus) {
    if ((c == ' ' || c == '\n') && !cur.empty()) {
      words[cur]++;
      cur.clear();
    }
    cur.push_back(byte_to_unicode(c));
  }
  if (!cur.empty()) words[cur]++;
  for (int m = 0; m < n_merges; ++m) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& [w, n] : words) {
      for (size_t i = 0; i + 1 < w.size(); ++i) pairs[{w[i], w[i + 1]}] += n;
    }
    std::pair<std::string, std::string> best;
    int best_n = 1;  // a pair must occur at least twice
    for (const auto& [p, n] : pairs) {
      if (n > best_n) {
        best_n = n;
        best = p;
      }
    }
    if (best_n <= 1) break;
    const std::string joined = best.first + best.second;
    merges->push_back(best.first + " " + best.second);
    tokens->push_back(joined);
    std::map<std::vector<std::string>, int> next;
    for (const auto& [w, n] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == best.first && w[i + 1] == best.second) {
          out.push_back(joined);
          ++i;
        } else {
          out.push_back(w[i]);
        }
      }
      next[out] += n;
    }
    words.swap(next);
  }
}

const std::string& builtin_corpus() {
  static const std::string text =
      "The dawn came slowly over the hills, and the river turned from grey to gold. In the village the baker "
      "was already at work, and the smell of bread drifted down the narrow streets. Children ran to the well "
      "with buckets, laughing as the cold water splashed their feet. An old man sat on a bench by the door of "
      "the inn and watched the light climb the church tower. He had seen many mornings like this one, yet each "
      "of them still seemed new to him.\n"
      "Machines that think are built from simple parts: numbers are added and multiplied, a little at a time, "
      "until a pattern appears. A language model reads a sequence of tokens and predicts the next one. It does "
      "not know the world; it knows which words tend to follow which. Yet when the model is large and the data "
      "is rich, the predictions start to look like understanding. Researchers measure this with perplexity, "
      "accuracy on questions, and careful reading of what the model writes.\n"
      "To run such a model on an ordinary computer, the weights are stored with fewer bits. Eight bits are "
      "nearly as good as sixteen; four bits lose a little, and two bits lose more. The memory saved is large, "
      "and speed grows with it, because reading memory is what limits a processor when it generates text one "
      "token after another. A mixture of experts helps too: each token uses only a few of the experts, so most "
      "of the weights stay untouched for that step.\n"
      "She opened the letter with trembling hands. It was short, only three lines, but she read it again and "
      "again until the words blurred. Then she folded it, put it in her pocket, and walked out into the rain "
      "without a coat. The streets were empty. Somewhere a dog barked, and a window closed. She did not care; "
      "for the first time in years she knew exactly where she was going.\n"
      "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(i, add(i, i * 2))\n"
      "int main() { int total = 0; for (int i = 0; i < 100; ++i) total += i; return total; }\n"
      "Numbers: 1, 2, 3, 10, 42, 100, 2024, 3.14159, 65536. Dates: 1999-12-31, 2026-11-22.\n";
  return text;
}

}  // namespace dawn
