import ArgumentParser
import Controller
import Foundation
import Screens
import Terminal

extension DevCommand {
  /// Times what `cptui replay LOG --at end` does before its first frame (read, fold every event,
  /// build the screen model, render it into cells), then scrubbing to a few places and back. The
  /// terminal write itself is left out (a few milliseconds for a full screen).
  struct ReplayOpen: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "replay-open",
      abstract: "Time opening logs on their finished picture, and scrubbing (replay benchmark).")
    @Argument(help: "Run logs.") var logs: [String]
    @Option(help: "Screen width in cells.") var width = 160
    @Option(help: "Screen height in cells.") var height = 48

    func run() throws {
      let clock = ContinuousClock()
      let start = clock.now
      var playback = try ReplayLoader.load(
        paths: try LogPaths.expand(logs), unionPaths: [], speed: 10)
      let read = clock.now
      playback.seekEnd()
      let folded = clock.now
      var grid = CellGrid(width: width, height: height)
      ScreenRenderer.render(model: playback.screenModel(), into: &grid)
      let drawn = clock.now
      func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
      }
      print("events: \(playback.eventsShown) in \(logs.count) log(s)")
      print(String(format: "read logs:            %.3f s", seconds(read - start)))
      print(String(format: "fold to the end:      %.3f s", seconds(folded - read)))
      print(String(format: "screen model + draw:  %.3f s", seconds(drawn - folded)))
      print(String(format: "open (total):         %.3f s", seconds(drawn - start)))
      var frames: [Double] = []
      for share in [0.5, 0.1, 0.9, 0.45, 0.55, 0.0, 1.0] {
        let t0 = clock.now
        playback.seek(to: share * playback.duration)
        ScreenRenderer.render(model: playback.screenModel(), into: &grid)
        frames.append(seconds(clock.now - t0))
      }
      frames.sort()
      print(
        String(
          format: "scrub frame (7 seeks): median %.3f s, worst %.3f s", frames[frames.count / 2],
          frames.last ?? 0))
    }
  }
}
