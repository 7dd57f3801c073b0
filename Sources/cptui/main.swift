import Experiment
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
// CPTUI.main(), except that cptui's own one-line errors go through printError (ASCII under LANG=C).
do {
  var command = try CPTUI.parseAsRoot(
    CommandLineNumbers.joined(Array(CommandLine.arguments.dropFirst())))
  try command.run()
  try OutputFile.checkStandardOutput()
} catch let error as CLIError {
  printError("Error: \(error.description)")
  if let command = error.badOptionOf {
    printError("Usage: \(CPTUI.usageString(for: command))")
    let name = command.configuration.commandName ?? "\(command)"
    printError("  See 'cptui \(name) --help' for more information.")
    exit(64)
  }
  exit(1)
} catch let error as NSError where [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(error.domain) {
  // A file-system error no command caught: one line naming the path, not Foundation's dump.
  printError("Error: \(CLIError(describing: error).description)")
  exit(1)
} catch  where CPTUI.exitCode(for: error) == .success {
  // --help, help COMMAND, --version: printed here, so that a failed write is said (exit 0 before).
  print(CPTUI.fullMessage(for: error))
  do {
    try OutputFile.checkStandardOutput()
  } catch {
    printError("Error: \(error)")
    exit(1)
  }
  exit(0)
} catch {
  CPTUI.exit(withError: error)
}
