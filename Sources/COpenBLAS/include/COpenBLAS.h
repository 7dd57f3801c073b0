// C shim for OpenBLAS: the CBLAS interface plus OpenBLAS's own introspection calls.
// Only the Tensor module imports this.
#ifndef CPTUI_COPENBLAS_H
#define CPTUI_COPENBLAS_H

#include <cblas.h>

// Declared here as well so the shim does not depend on which openblas_config.h variant is installed.
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_parallel(void);

#endif
