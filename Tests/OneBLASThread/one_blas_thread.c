// Test processes only (every test target that trains a model links this): OpenBLAS's thread count
// is process-wide, the engine holds it to 1 inside its parallel parts and puts it back after, and
// OpenBLAS's products differ in their last bits between 1 and 2 threads. With the default count
// (one per core) a test running beside another that toggles it would see its bits change, and
// `twoThreadsAgreeAndAreDeterministic` failed now and then under plain `swift test`. Pinned to 1
// before any test runs, the toggles are no-ops. (`scripts/test` also sets OPENBLAS_NUM_THREADS=1.)
#include "OneBLASThread.h"

void openblas_set_num_threads(int);

__attribute__((constructor)) static void cptui_tests_use_one_openblas_thread(void) {
  openblas_set_num_threads(1);
}
