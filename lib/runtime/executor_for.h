// Which executor runs a table's attempts: the one rule that HasExecutor,
// CheckExecutors and the Runner share.
#pragma once

#include <string_view>

#include "landfall/runner.h"

namespace landfall::internal {

// The executor `options` give the attempts of table `table`, whose sink is
// `sink` (empty for none): its entry in executor_by_table, else its sink's
// in executor_by_sink, else `executor`; null when there is none. The
// executor stays owned by `options`.
Executor* ExecutorFor(const RunnerOptions& options, std::string_view table,
                      std::string_view sink);

}  // namespace landfall::internal
