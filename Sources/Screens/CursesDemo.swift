// A self-contained interactive loop over a fixed screen model: the smallest real use of the curses
// backend, for trying the screen by hand and for end-to-end tests before the controller exists.
// The controller's loop does the same with a model that changes.

import Terminal

public enum CursesDemo {
  /// Shows `model` on the terminal until the user quits. View keys work (zoom, pan, smoothing,
  /// log-y, themes, overlays, the stage panel); trainer commands are only noted on the screen.
  /// Returns the commands that the keys produced, in order.
  @discardableResult
  public static func run(
    model initial: ScreenModel, themes: ThemeLoader = .standard(), themeName: String? = nil
  ) throws -> [Command] {
    var model = initial
    if let name = themeName { model.view.themeName = name }
    model.view.themeNames = themes.availableNames()
    var log: [Command] = []
    var theme =
      (try? themes.load(model.view.themeName)) ?? Theme(name: "none", palette: .monochrome)
    return try CursesTerminal.run(palette: theme.palette) { term in
      term.setPalette(themes.palette(for: theme, colors: term.capabilities.colors))
      var running = true
      while running {
        var grid = term.makeGrid()
        ScreenRenderer.render(model: model, into: &grid)
        term.draw(grid)
        guard let key = term.pollKey(timeoutMilliseconds: 250) else { continue }
        for command in model.handleKey(key) {
          log.append(command)
          switch command {
          case .quit: running = false
          case .themeChanged(let name):
            if let t = try? themes.load(name) {
              theme = t
              term.setPalette(themes.palette(for: t, colors: term.capabilities.colors))
            }
          case .togglePause:
            model.status.mode = model.status.mode == .paused ? .live : .paused
          case .startNextStage(let s):
            model.status.stage += 1
            model.status.stageCount = max(model.status.stageCount, model.status.stage)
            model.status.dataset = s.dataset
            model.status.mode = .live
            model.notices = [
              "demo: would start stage \(model.status.stage), replay "
                + Format.percent(s.replayPercent)
            ]
          default:
            model.notices = ["demo: \(command)"]
          }
        }
      }
      return log
    }
  }
}
