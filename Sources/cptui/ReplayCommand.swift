import ArgumentParser
import Controller
import Experiment
import Foundation
import RunLog
import Screens

/// `cptui replay RUN.jsonl`: a logged run on the same screen that draws live runs.
struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Show a logged run on the live screen (its finished picture).",
    discussion: """
      Reads the log through the same fold the live screen uses (resumed attempts are dropped) and
      opens on the finished picture: every stage, the measures, zoom, pan, smoothing, log-y and themes
      work as in a live run; q quits. Skipped (corrupt or foreign) lines are counted on the screen.
      Playback at a chosen speed, several runs overlaid, and `cptui follow` are not built yet.
      """)

  @Argument(help: "A run log (.jsonl).") var log: String
  @Option(help: "Theme name or .theme file (default: dark).") var theme: String?

  func run() throws {
    let themes = ThemeLoader.standard()
    let chosenTheme: Theme
    do {
      chosenTheme = try themes.load(theme ?? "dark")
    } catch {
      throw CLIError("theme: \(error)")
    }
    let contents: RunLogContents
    do {
      contents = try RunLogReader.read(path: log)
    } catch {
      throw CLIError("\(error)")
    }
    guard isatty(0) == 1, isatty(1) == 1 else {
      throw CLIError("replay needs a terminal; use `cptui compare` or `cptui export` for text")
    }
    let config: ExperimentConfig? = contents.header?.config.flatMap {
      try? RunSupport.loader.parse(yaml: JSONText.encode($0), source: log)
    }
    var state = RunState(config: config, interactive: false)
    for event in RunLogReader.applyingResumes(contents.events) { state.apply(event) }
    if let skipped = contents.skippedSummary { state.externalNotice = skipped }
    var model = state.screenModel()
    let mailbox = Mailbox(ScreenSnapshot(model: model, finished: true))
    _ = try ScreenLoop.run(mailbox: mailbox, themes: themes, theme: chosenTheme) { _ in }
  }
}
