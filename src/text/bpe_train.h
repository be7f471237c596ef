// A small byte-level BPE trainer, used to give synthetic models a real vocabulary.
#pragma once
#include <string>
#include <vector>

namespace dawn {

// Learns up to n_merges merges from corpus. tokens: the 256 byte symbols then
// each merge result; merges: "left right" in rank order.
void train_bpe(const std::string& corpus, int n_merges, std::vector<std::string>* tokens,
               std::vector<std::string>* merges);

// A few kilobytes of English used as the default training text.
const std::string& builtin_corpus();

}  // namespace dawn
