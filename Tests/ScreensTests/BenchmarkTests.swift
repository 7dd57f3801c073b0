// Frame-time benchmark: a 200×60 screen over series of 100k points each. Prints the median time;
// no assertion (timings on shared machines swing). For the real number, run in release:
//   CPTUI_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests

import Foundation
import Screens
import Terminal
import Testing

struct BenchmarkTests {
  static func bigModel(points: Int) -> ScreenModel {
    var noise = Fixtures.Noise(state: 42)
    func series(_ name: String, base: Double) -> Series {
      var s = Series(name: name)
      s.xs.reserveCapacity(points)
      s.ys.reserveCapacity(points)
      for i in 0..<points {
        let t = Double(i) * 20
        s.append(x: t, y: base + 2 * exp(-t / 400_000) + 0.3 * noise.next())
      }
      return s
    }
    var m = Fixtures.stageTwo()
    m.runs[0].validation = [series("D0 english", base: 2.6), series("D1 german", base: 2.2)]
    m.runs[0].trainLoss = series("train", base: 2.4)
    m.runs[0].lrPast = Series(
      name: "lr", xs: m.runs[0].trainLoss.xs,
      ys: m.runs[0].trainLoss.xs.map { 3e-4 / (1 + $0 / 1e6) })
    m.runs[0].stageMarkers = [StageMarker(x: Double(points) * 10, label: "stage 2: warmup 1%")]
    return m
  }

  @Test(arguments: [false, true])
  func frameTime200x60With100kPoints(smoothing: Bool) {
    let full = ProcessInfo.processInfo.environment["CPTUI_BENCH"] == "1"
    var model = Self.bigModel(points: 100_000)
    model.view.smoothing = smoothing
    var grid = CellGrid(width: 200, height: 60)
    var times: [Double] = []
    for _ in 0..<(full ? 100 : 2) {
      let start = ContinuousClock.now
      ScreenRenderer.render(model: model, into: &grid)
      let d = ContinuousClock.now - start
      times.append(Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3)
    }
    times.sort()
    let median = times[times.count / 2]
    print(
      "frame 200x60, 4 series x 100k points, smoothing \(smoothing ? "on " : "off"): median "
        + "\(Format.fixed(median, 2)) ms over \(times.count) frames (min \(Format.fixed(times[0], 2)) ms)"
    )
    #expect(grid.render().contains("validation loss"))
  }
}
