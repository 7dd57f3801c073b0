// No interface: the target's one job is the load-time constructor in one_blas_thread.c.
#pragma once
