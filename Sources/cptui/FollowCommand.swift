import ArgumentParser
import Controller
import Experiment
import Foundation
import RunLog
import Screens

/// `cptui follow RUN.jsonl` / `cptui follow -`: a log another process is still writing, drawn live.
struct FollowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "follow",
    abstract: "Show a run log that is still being written, live (a file, or - for standard input).",
    discussion: """
      Reads the log from its start, then new lines as they arrive, through the fold the live \
      screen uses. The status line says [waiting] until the first line (or the file itself) \
      arrives, [live] while lines arrive, [stalled] after \
      --stall-after seconds without one (or when standard input ended before the run did), and \
      [finished] once the run ended. A file that is truncated or replaced (or a new header) \
      starts the picture over. Skipped (corrupt) lines are counted on the screen. A file that \
      does not exist yet is waited for (start follow before the run), and one removed while \
      followed keeps what was read, with a notice. q quits at once: following never stops the \
      run.

      With -, keys are read from the terminal (/dev/tty), e.g.
        ssh host 'tail -n +1 -F run.jsonl 2>/dev/null' | cptui follow -
      """)

  @Argument(help: "A run log (.jsonl), or - for standard input.") var log: String
  @Option(help: "Seconds without a new line before the run is shown as stalled.")
  var stallAfter: Double = 10
  @Option(help: "Theme name or .theme file (default: dark).") var theme: String?

  func validate() throws {
    guard stallAfter > 0, stallAfter.isFinite else {
      throw ValidationError("--stall-after must be a positive number of seconds")
    }
  }

  func run() throws {
    let (themes, chosenTheme) = try RunSupport.theme(theme)
    let source: FollowSource
    if log == "-" {
      // Standard input carries the log: the screen reads its keys from the terminal instead.
      guard isatty(0) != 1 else {
        throw CLIError("follow -: standard input is the terminal; pipe a log into it")
      }
      let input = dup(0)
      guard input >= 0, isatty(1) == 1 else {
        throw CLIError(Self.noScreen)
      }
      let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
      guard tty >= 0 else {
        throw CLIError("follow -: no terminal to read keys from (/dev/tty: \(errnoText()))")
      }
      _ = fcntl(input, F_SETFD, FD_CLOEXEC)
      dup2(tty, 0)
      close(tty)
      source = FollowSource(fileDescriptor: input, name: "-")
    } else {
      do {
        source = try FollowSource(path: log)
      } catch {
        throw CLIError(describing: error)
      }
      guard isatty(1) == 1 else {
        throw CLIError(Self.noScreen)
      }
      if isatty(0) != 1 {
        // Keys come from the terminal even when standard input was redirected.
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw CLIError("follow: no terminal to read keys from") }
        dup2(tty, 0)
        close(tty)
      }
    }
    let name = log
    let follow = LogFollow(startedAt: FollowScreen.now(), stallAfter: stallAfter) { header in
      header.config.flatMap {
        try? RunSupport.loader.parse(logged: $0, source: name)
      }
    }
    let outcome = try FollowScreen.run(
      source: source, follow: follow, themes: themes, theme: chosenTheme)
    if let status = outcome.signalExitStatus { throw ExitCode(status) }
  }

  static let noScreen =
    "follow needs a terminal to draw on; use `cptui compare` or `cptui export` for text"

  private func errnoText() -> String { String(cString: strerror(errno)) }
}
