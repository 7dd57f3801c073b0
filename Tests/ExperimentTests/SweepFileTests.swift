import Corpus
import Foundation
import Testing

@testable import Experiment

/// Sweep files (`presets/sweeps/*.yaml`): reading, errors, and the shipped ones.
struct SweepFileTests {
  static let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("presets")

  @Test func readsEveryKeyAndExpandsSeedsAndMapValues() throws {
    let yaml = """
      about: a test
      preset: strong-shift
      set: {defaults.tokens: 1M}
      seeds: [1, 2]
      grid:
        stage2.replay: [0, 25]
        stage2:
          - {lrMax: 2e-3}
          - {schedule: constant-min, warmup: 0}
      union: {preset: union-strong-shift, set: {stages.1.tokens: 2M}}
      out: findings/x
      """
    let sweep = try #require(try SweepFile.parse(yaml: yaml, source: "/p/sweeps/replay.yaml"))
    #expect(sweep.name == "replay")
    #expect(sweep.preset == "strong-shift")
    #expect(sweep.overrides == ["defaults.tokens=1M"])
    #expect(sweep.unionPerSeed)
    #expect(sweep.axes.map(\.key) == ["seed", "stage2.replay", "stage2"])
    #expect(sweep.axes[0].choices == [["seed=1"], ["seed=2"]])
    #expect(
      sweep.axes[2].choices == [
        ["stage2.lrMax=2e-3"], ["stage2.schedule=constant-min", "stage2.warmup=0"],
      ])
    #expect(sweep.union == "union-strong-shift")
    #expect(sweep.unionOverrides == ["stages.1.tokens=2M"])
    #expect(sweep.out == "findings/x")
    let combos = SweepFile.combinations(sweep.axes)
    #expect(combos.count == 8)
    #expect(combos[0] == ["seed=1", "stage2.replay=0", "stage2.lrMax=2e-3"])
    #expect(
      combos[7] == [
        "seed=2", "stage2.replay=25", "stage2.schedule=constant-min", "stage2.warmup=0",
      ])
  }

  @Test func anExperimentConfigIsNoSweepFile() throws {
    #expect(try SweepFile.parse(yaml: "name: x\nstages: []\n", source: "x.yaml") == nil)
  }

  @Test func mistakesNameTheirPlace() throws {
    do {
      _ = try SweepFile.parse(yaml: "preset: x\ngird: {seed: [1]}\n", source: "s.yaml")
      Issue.record("gird taken")
    } catch {
      #expect(
        error.description.contains("unknown key in a sweep file (did you mean \"grid\"?)"),
        "\(error)")
    }
    #expect(throws: ConfigError.self) {
      try SweepFile.parse(yaml: "grid: {seed: [1]}\n", source: "s.yaml")  // no preset
    }
    do {
      _ = try SweepFile.parse(yaml: "preset: x\ngrid:\n  seed: []\n", source: "s.yaml")
      Issue.record("an empty axis was accepted")
    } catch {
      #expect(error.keyPath == "seed" && error.line == 3, "\(error)")
    }
  }

  @Test func aRelativeConfigPathIsReadFromTheSweepFilesFolder() throws {
    let sweep = try #require(
      try SweepFile.parse(yaml: "preset: ../my.yaml\ngrid: {seed: 1}\n", source: "/a/b/s.yaml"))
    #expect(sweep.preset == "/a/my.yaml")
    #expect(sweep.axes == [SweepFile.Axis(key: "seed", choices: [["seed=1"]])])
  }

  static let shipped = SweepFile.names(in: [presets])

  @Test func theShippedSweepsExist() {
    for name in [
      "warmup-strong", "warmup-weak", "lr-strong", "lr-weak", "replay-strong", "replay-weak",
      "schedules-no-shift", "domains",
    ] {
      #expect(Self.shipped.contains(name), "missing sweep \(name)")
    }
  }

  /// Every run of every shipped sweep (and its union runs) loads with the real dataset catalogue.
  @Test(arguments: shipped)
  func everyRunOfAShippedSweepLoads(_ name: String) throws {
    let sweep = try #require(try SweepFile.locate(name, in: [Self.presets]))
    let loader = ConfigLoader(builtinDatasets: Recipes.knownNames)
    let combos = SweepFile.combinations(sweep.axes)
    #expect(combos.count > 1)
    for combo in combos {
      let config = try Presets.resolve(
        sweep.preset, loader: loader, overrides: sweep.overrides + combo, in: [Self.presets])
      #expect(config.totalSteps > 0)
    }
    if let union = sweep.union {
      let seeds = sweep.unionPerSeed ? sweep.axes[0].choices : [[]]
      for seed in seeds {
        _ = try Presets.resolve(
          union, loader: loader, overrides: sweep.unionOverrides + seed, in: [Self.presets])
      }
    }
  }

  /// `stage2.replay` and `stages.2.replay` are one grid key (a --grid axis replaces a file's axis
  /// given in the other spelling).
  @Test func gridKeysHaveOneSpelling() {
    #expect(SweepFile.canonicalKey("stage2.replay") == "stages.2.replay")
    #expect(SweepFile.canonicalKey(" stages.2.replay ") == "stages.2.replay")
    #expect(SweepFile.canonicalKey("seed") == "seed")
    #expect(SweepFile.canonicalKey("stagework.x") == "stagework.x")
    do {
      _ = try SweepFile.parse(
        yaml: "preset: tiny\ngrid:\n  stage2.replay: [0, 5]\n  stages.2.replay: [25]\n",
        source: "s.yaml")
      Issue.record("one key in two spellings was taken")
    } catch {
      #expect("\(error)".contains("is the same key as grid.stage2.replay"), "\(error)")
    }
  }
}
