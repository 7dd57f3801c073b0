import Foundation
import Tensor

// Re-exec with the right OpenBLAS kernel before anything else runs (see KernelSelection).
KernelSelection.ensureBestKernel()
if CommandLine.arguments.count > 1,
  let command = CommandTypo.suggestion(forFirstArgument: CommandLine.arguments[1])
{
  printError("cptui: unknown command '\(CommandLine.arguments[1])' (did you mean '\(command)'?)")
  exit(64)
}
CPTUI.main()
