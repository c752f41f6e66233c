// A minimal host: loads a pipeline spec and prints what it holds.
#include <iostream>

#include "landfall/pipeline.h"
#include "landfall/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer SPEC\n";
    return 2;
  }
  auto pipeline = landfall::Pipeline::FromFile(argv[1]);
  if (!pipeline.ok()) {
    std::cerr << pipeline.status().message() << "\n";
    return 1;
  }
  const landfall::PipelineSummary summary = (*pipeline)->Summary();
  std::cout << "landfall " << landfall::Version() << ": " << (*pipeline)->name()
            << " has " << summary.tables << " tables\n";
  return 0;
}
