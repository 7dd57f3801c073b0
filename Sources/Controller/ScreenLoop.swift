// The TUI thread's loop (docs/screen.md): read a key with a short timeout, take the newest
// snapshot from the mailbox, merge in the user's view and draft, draw only when something changed,
// and hand the commands the keys produce to the controller. It never waits on the controller.

import Dispatch
import Screens
import Terminal

/// The interactive screen over a controller's mailbox.
public enum ScreenLoop {
  /// How the loop ended.
  public struct Outcome: Sendable, Equatable {
    /// The user insisted (a second quit or signal while the run was stopping), so the run may not
    /// have ended; false when the user quit and the run ended (its log is complete).
    public var forced: Bool
    /// The first SIGINT, SIGTERM or SIGHUP that asked the screen to quit, if a signal did.
    public var signal: Int32?

    /// The conventional exit status of a program a signal stopped (128 + its number), if one did.
    public var signalExitStatus: Int32? { signal.map { 128 + $0 } }
  }

  /// Runs on the calling thread until the user quits and the run has ended. `send` gets every
  /// command except theme changes (handled here). The terminal is restored however this returns.
  public static func run(
    mailbox: Mailbox<ScreenSnapshot>, themes: ThemeLoader, theme initial: Theme,
    view: ViewState = ViewState(), frameMilliseconds: Int32 = 50,
    send: (Command) -> Void
  ) throws -> Outcome {
    var theme = initial
    var startView = view
    startView.themeName = initial.name
    startView.themeNames = themes.availableNames()
    if !startView.themeNames.contains(initial.name) { startView.themeNames.append(initial.name) }
    var session = ScreenSession(view: startView)
    return try CursesTerminal.run(palette: theme.palette) { term -> Outcome in
      term.setPalette(themes.palette(for: theme, colors: term.capabilities.colors))
      var seen = 0
      let first = mailbox.take()
      seen = first.serial
      var finished = first.value.finished
      var model = session.merge(first.value)
      var quitting = false
      var signal: Int32?
      var needsDraw = true
      // After t: the theme's name on the notice line for a moment (colours alone do not say).
      var themeNotice: (text: String, until: UInt64)?
      while true {
        if let notice = themeNotice, DispatchTime.now().uptimeNanoseconds > notice.until {
          themeNotice = nil
          needsDraw = true
        }
        if let (snapshot, serial) = mailbox.take(newerThan: seen) {
          seen = serial
          finished = snapshot.finished
          let merged = session.merge(snapshot)
          if merged != model {
            model = merged
            needsDraw = true
          }
        }
        if quitting && finished { return Outcome(forced: false, signal: signal) }
        if needsDraw {
          var grid = term.makeGrid()
          var shown = model
          if let notice = themeNotice { shown.notices.insert(notice.text, at: 0) }
          ScreenRenderer.render(model: shown, into: &grid)
          term.draw(grid)
          needsDraw = false
        }
        guard let key = term.pollKey(timeoutMilliseconds: frameMilliseconds) else { continue }
        needsDraw = true
        if case .interrupted(let number) = key, signal == nil { signal = number }
        if quitting {
          // Still saving: a second q or signal leaves at once.
          if case .interrupted = key { return Outcome(forced: true, signal: signal) }
          if key == .char("q") { return Outcome(forced: true, signal: signal) }
          continue
        }
        for command in session.handleKey(key, in: &model) {
          switch command {
          case .quit:
            if finished { return Outcome(forced: false, signal: signal) }
            quitting = true
            send(.quit)
          case .themeChanged(let name):
            do throws(ThemeError) {
              let t = try themes.load(name)
              theme = t
              term.setPalette(themes.palette(for: t, colors: term.capabilities.colors))
              // Without colours (NO_COLOR, a monochrome terminal) every theme looks the same.
              let shown =
                term.capabilities.colors == 0
                ? "theme: \(name) (no colours here: themes look alike)"
                : "theme: \(name)"
              themeNotice = (shown, DispatchTime.now().uptimeNanoseconds + 3_000_000_000)
            } catch {
              // Long enough to read which line of which file to fix.
              themeNotice = (
                "theme \(name) does not load: \(error.brief)",
                DispatchTime.now().uptimeNanoseconds + 8_000_000_000
              )
            }
          default:
            send(command)
          }
        }
      }
    }
  }
}
