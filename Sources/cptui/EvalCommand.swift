import ArgumentParser

/// `cptui eval`: mean next-token loss of a checkpoint on a token file.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Mean next-token loss of a checkpoint on a uint16 token file.")
}
