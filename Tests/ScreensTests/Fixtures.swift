// Synthetic runs for screen tests: deterministic curves shaped like a two-stage continual
// pre-training run (D0 English falls, then rises a little in stage 2 while D1 German falls).

import Foundation
import Screens
import Terminal

enum Fixtures {
  /// A small deterministic generator (64-bit LCG) for noise.
  struct Noise {
    var state: UInt64
    mutating func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53) - 0.5
    }
  }

  static let stageTokens = 1_000_000.0

  /// The learning rate of a stage at fraction p (warmup then cosine).
  static func lr(_ p: Double, max: Double, warmup: Double) -> Double {
    let minLR = max / 10
    if p < warmup { return max * p / warmup }
    let q = (p - warmup) / (1 - warmup)
    return minLR + (max - minLR) / 2 * (1 + cos(Double.pi * q))
  }

  /// One run up to `tokens` tokens; stage 2 (replay `replay` %) starts at 1M tokens.
  static func run(
    name: String = "strong-shift", tokens: Double, replay: Double = 25, lrMax: Double = 3e-4,
    seed: UInt64 = 1, evalEvery: Double = 25_000, trainEvery: Double = 2_000
  ) -> RunSeries {
    var noise = Noise(state: seed)
    var d0 = Series(name: "D0 english")
    var d1 = Series(name: "D1 german")
    let forget = 0.45 * (1 - replay / 60) * (lrMax / 3e-4)
    func d0Loss(_ t: Double) -> Double {
      let base = 2.6 + 2.9 * exp(-t / 180_000)
      guard t > stageTokens else { return base }
      let s = (t - stageTokens) / stageTokens
      return base + forget * (1 - exp(-s * 6))
    }
    func d1Loss(_ t: Double) -> Double {
      let base = 3.5 + 2.2 * exp(-t / 150_000)
      guard t > stageTokens else { return base }
      let s = (t - stageTokens) / stageTokens
      return base - (1.35 - replay / 200) * (1 - exp(-s * 4))
    }
    var t = 0.0
    while t <= tokens {
      d0.append(x: t, y: d0Loss(t) + 0.02 * noise.next())
      d1.append(x: t, y: d1Loss(t) + 0.02 * noise.next())
      t += evalEvery
    }
    var train = Series(name: "train")
    var lrPast = Series(name: "lr")
    t = trainEvery
    while t <= tokens {
      let onD1 = t > stageTokens
      train.append(x: t, y: (onD1 ? d1Loss(t) : d0Loss(t)) - 0.05 + 0.25 * noise.next())
      let p = (t.truncatingRemainder(dividingBy: stageTokens)) / stageTokens
      lrPast.append(x: t, y: lr(p == 0 ? 1 : p, max: onD1 ? lrMax : 3e-4, warmup: 0.01))
      t += trainEvery
    }
    var planned = Series(name: "lr planned")
    let end = tokens <= stageTokens ? stageTokens : 2 * stageTokens
    t = tokens
    while t <= end {
      let p = (t - (tokens <= stageTokens ? 0 : stageTokens)) / stageTokens
      planned.append(x: t, y: lr(p, max: tokens <= stageTokens ? 3e-4 : lrMax, warmup: 0.01))
      t += trainEvery * 5
    }
    var markers: [StageMarker] = []
    if tokens > stageTokens {
      let settings = StageSettings(warmupPercent: 1, lrMax: lrMax, replayPercent: replay)
      markers.append(
        StageMarker(x: stageTokens, label: StageMarker.label(stage: 2, settings: settings)))
    }
    return RunSeries(
      name: name, validation: [d0, d1], trainLoss: train, lrPast: lrPast, lrPlanned: planned,
      stageMarkers: markers)
  }

  static let nextStage = StageSettings(
    datasets: ["D1 german", "D0 english", "D2 shakespeare"], datasetIndex: 0, warmupPercent: 1,
    lrMax: 3e-4, lrMin: 3e-5, replayPercent: 25, lengthTokens: 1_000_000)

  /// Stage 1 of the strong shift, still running.
  static func live() -> ScreenModel {
    let run = run(tokens: 600_000)
    return ScreenModel(
      status: RunStatus(
        runName: "strong-shift", stage: 1, stageCount: 2, dataset: "D0 english", step: 1172,
        totalSteps: 1953, tokensPerSecond: 11_800, etaSeconds: 62, mode: .live),
      runs: [run], measures: Measures(adaptation: run.validation[1].lastFinite),
      nextStage: nextStage)
  }

  /// Stage 2 under way: the picture of the mock-up.
  static func stageTwo() -> ScreenModel {
    let run = run(tokens: 1_620_000)
    let d0End = run.validation[0].ys[40]
    let d0 = run.validation[0].lastFinite!
    let d1 = run.validation[1].lastFinite!
    return ScreenModel(
      status: RunStatus(
        runName: "strong-shift", stage: 2, stageCount: 2, dataset: "D1 german", step: 1240,
        totalSteps: 1953, tokensPerSecond: 11_800, etaSeconds: 62, mode: .live),
      runs: [run],
      measures: Measures(
        forgetting: d0 - d0End, adaptation: d1, average: (d0 + d1) / 2, unionBaseline: 2.41),
      nextStage: nextStage)
  }

  /// The moment stage 1 ended: the stage panel is open.
  static func stageBoundary() -> ScreenModel {
    var m = live()
    m.runs = [run(tokens: 1_000_000)]
    m.status.step = 1953
    m.status.mode = .waiting
    m.status.etaSeconds = nil
    m.view.overlay = .stagePanel
    m.view.stageField = .replay
    return m
  }

  static func withNaN() -> ScreenModel {
    var m = stageTwo()
    for i in [20, 21, 50] {
      m.runs[0].validation[0].ys[i] = .nan
      m.runs[0].validation[1].ys[i] = .nan
    }
    m.runs[0].trainLoss.ys[300] = .infinity
    m.notices = ["skipped 3 corrupt lines: 12, 40, 41"]
    return m
  }

  static func overlay3() -> ScreenModel {
    let runs = [0.0, 5, 25].enumerated().map { k, r in
      var run = run(tokens: 2_000_000, replay: r, seed: UInt64(k + 7))
      run.name = "replay \(Int(r))%"
      return run
    }
    var model = ScreenModel(
      status: RunStatus(
        runName: "3 runs", stage: 2, stageCount: 2, dataset: "D1 german", step: 3906,
        totalSteps: 3906, mode: .replay, replaySpeed: "100×"),
      runs: runs,
      measures: Measures(forgetting: 0.21, adaptation: 2.31, average: 2.6, unionBaseline: 2.41),
      nextStage: nextStage)
    // A replay always has its runs' comparison (the `v` table).
    model.comparison = comparisonTable()
    return model
  }

  static func comparisonTable() -> ComparisonTable {
    ComparisonTable(
      columns: ["run", "D0", "D1", "forgetting", "adaptation", "avg", "vs union"],
      rows: [
        ["replay 0%", 3.05, 2.15, 0.45, 2.15, 2.60, 0.19],
        ["replay 5%", 2.98, 2.17, 0.38, 2.17, 2.575, 0.165],
        ["replay 25%", 2.86, 2.24, 0.26, 2.24, 2.55, 0.14],
      ].map { row in
        [ComparisonCell(row[0] as! String)]
          + row.dropFirst().map { v in
            let d = v as! Double
            return ComparisonCell(Format.fixed(d, 2), value: d)
          }
      })
  }
}
