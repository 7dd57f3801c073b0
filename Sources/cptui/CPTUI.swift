import ArgumentParser
import Experiment
import Foundation
import Spelling

/// The `cptui` command: the live screen by default, and headless subcommands.
struct CPTUI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cptui",
    abstract: "A terminal lab for continual pre-training of language models.",
    version: CPTUIVersion.string,
    subcommands: [
      LiveCommand.self, DoctorCommand.self, BenchCommand.self, EvalCommand.self,
      DataCommand.self, ScheduleCommand.self, RunCommand.self, SweepCommand.self,
      CompareCommand.self, ExportCommand.self, ReplayCommand.self, FollowCommand.self,
      DevCommand.self,
    ],
    defaultSubcommand: LiveCommand.self
  )
}

/// A first argument that is neither a command, a file nor a preset but reads like a command mistyped
/// (`cptui runn tiny`): said so, instead of the live command's "unexpected argument" or "no preset".
enum CommandTypo {
  /// The command names `word` is a misspelling of (edit distance 1–2), if it is one.
  static func suggestion(forFirstArgument word: String) -> String? {
    guard word.count >= 3, !word.hasPrefix("-"), !word.contains("/"), !word.contains("."),
      !FileManager.default.fileExists(atPath: word), !Presets.names().contains(word)
    else { return nil }
    let names = CPTUI.configuration.subcommands.compactMap { $0.configuration.commandName }
    guard !names.contains(word) else { return nil }
    return Spelling.suggestion(for: word, among: names, allowance: { _ in 2 })
  }
}

/// The version printed by `--version` and written into run logs.
enum CPTUIVersion {
  static let string = "0.1.0"
}
