// "Did you mean ...?" for misspelt config keys and values: the closest candidate by edit distance.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace pgopt::pooler {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters each cost 1 ("pool_mdoe" is one edit from "pool_mode").
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is at most `max_distance` edits away (first one on ties);
// nothing when `word` is itself a candidate.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates,
                                              size_t max_distance = 2);

}  // namespace pgopt::pooler
