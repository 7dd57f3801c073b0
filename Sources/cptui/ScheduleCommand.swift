import ArgumentParser
import Experiment
import Foundation

/// `cptui schedule CONFIG`: print or plot the planned learning-rate curve without training.
struct ScheduleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schedule", abstract: "Show the planned learning-rate schedule of a config.",
    discussion: """
      CONFIG is a YAML file or the name of a preset (see presets/). Prints each stage's settings, \
      the learning rate at key steps and a plot of the whole run, without training. For example:
        cptui schedule strong-shift --set stages.2.schedule=constant-min
      """)

  @Argument(help: "A config file or a preset name.")
  var config: String = "default"

  @Option(
    name: .customLong("set"),
    help: ArgumentHelp(
      "Override a config key, e.g. stages.2.replay=25 (repeatable).", valueName: "key=value"))
  var overrides: [String] = []

  @Option(help: "Plot width in characters, 20–1000.")
  var width: Int = 72

  @Option(help: "Plot height in characters, 4–500.")
  var height: Int = 12

  @Option(
    help: "Rows of the step table, 2–100000 (stage starts and warmup ends are added to them).")
  var rows: Int = 16

  @Flag(help: "Draw with ASCII characters instead of braille dots.")
  var ascii = false

  @Flag(help: "Print step,stage,stage_step,tokens,lr for every step as CSV instead.")
  var csv = false

  func validate() throws {
    if !(20...1000).contains(width) {
      throw ValidationError("--width must be 20 to 1000, got \(width)")
    }
    if !(4...500).contains(height) {
      throw ValidationError("--height must be 4 to 500, got \(height)")
    }
    if !(2...100_000).contains(rows) {
      throw ValidationError("--rows must be 2 to 100000, got \(rows)")
    }
  }

  /// Most learning rates the plot is drawn from.
  static let plotSamples = 200_000

  func run() throws {
    // As every other command (built-in dataset names checked too): one line, exit status 1.
    let loaded = try RunSupport.loadConfig(config, overrides: overrides)
    let plan = loaded.schedulePlan
    if csv {
      print("step,stage,stage_step,tokens,lr")
      // One step at a time: a billion-step plan prints in constant memory.
      for step in 0..<plan.totalSteps {
        let stage = plan.stageIndex(globalStep: step)
        let lr = plan.lr(stageIndex: stage, stageStep: step - plan.stageStarts[stage])
        print(
          "\(step),\(stage + 1),\(step - plan.stageStarts[stage]),"
            + "\(step * loaded.tokensPerStep),\(lr)")
      }
      return
    }
    let unicode = !ascii && Self.localeIsUTF8()
    print(
      "\(loaded.name): \(loaded.stages.count) stage\(loaded.stages.count == 1 ? "" : "s"), "
        + "\(loaded.totalSteps) steps of \(loaded.tokensPerStep) tokens "
        + "(\(ScheduleText.compactCount(loaded.totalTokens)) tokens)")
    // The plot is a few dozen columns wide: a long plan is sampled (every `stride`-th step).
    let stride = max(1, (plan.totalSteps + Self.plotSamples - 1) / Self.plotSamples)
    let curve =
      stride == 1
      ? plan.curve()
      : Swift.stride(from: 0, to: plan.totalSteps, by: stride).map {
        plan.lr(globalStep: $0)
      }
    let plot = ScheduleText.plot(
      curve: curve, stageStarts: plan.stageStarts.map { $0 / stride }, width: width,
      height: height, unicode: unicode)
    let sections = [
      ScheduleText.stageTable(loaded), ScheduleText.pointTable(loaded, rows: rows), plot,
    ]
    for section in sections {
      print("")
      print(section.joined(separator: "\n"))
    }
  }

  static func localeIsUTF8() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"].compactMap { environment[$0] }.first { !$0.isEmpty }
    let lower = (locale ?? "").lowercased()
    return lower.contains("utf-8") || lower.contains("utf8")
  }
}
