import ArgumentParser

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

/// The version printed by `--version` and written into run logs.
enum CPTUIVersion {
  static let string = "0.1.0"
}
