// libFuzzer's driver, called from each target's main.swift. SwiftPM renames an executable's
// `main` (it links `main` to MODULE_main), so libFuzzer's own `main` cannot be used; its
// documented entry point `LLVMFuzzerRunDriver` does the same work.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*UserCb)(const uint8_t *Data, size_t Size));
