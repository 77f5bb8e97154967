// QueryGroup statistics derived from the bounded duration sample.
#include "analyzer/workload.hpp"

#include <algorithm>
#include <cmath>

namespace pgopt::analyzer {

// The smallest names are kept, so merging partial workloads in any order keeps the same ones.
void add_user(std::vector<std::string>& users, std::string_view user) {
  if (user.empty()) return;
  auto it = std::lower_bound(users.begin(), users.end(), user);
  if (it != users.end() && *it == user) return;
  users.insert(it, std::string(user));
  if (users.size() > kMaxGroupUsers) users.pop_back();
}

double QueryGroup::p95_ms() const {
  if (duration_reservoir.empty()) return mean_ms();
  std::vector<double> d = duration_reservoir;
  // Nearest rank: the smallest value with at least 95% of the sample at or below it.
  size_t rank = size_t(std::ceil(0.95 * double(d.size())));
  size_t k = rank == 0 ? 0 : rank - 1;
  std::nth_element(d.begin(), d.begin() + std::ptrdiff_t(k), d.end());
  return d[k];
}

}  // namespace pgopt::analyzer
