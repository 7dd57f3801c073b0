import ArgumentParser

/// `cptui schedule CONFIG`: print or plot the planned learning-rate curve without training.
struct ScheduleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schedule", abstract: "Show the planned learning-rate schedule of a config.")
}
