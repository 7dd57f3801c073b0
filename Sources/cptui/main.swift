import Tensor

// Re-exec with the right OpenBLAS kernel before anything else runs (see KernelSelection).
KernelSelection.ensureBestKernel()
CPTUI.main()
