// View state: what the user has chosen to look at. Changed by keys through `KeyTable.handle`.

import Terminal

/// Which overlay is open over the main screen.
public enum Overlay: Sendable, Equatable {
  case none
  case help
  case stagePanel
  case quitConfirm
  case comparison
}

/// The x range shown.
public enum XWindow: Sendable, Equatable {
  /// Everything, growing with the run.
  case all
  /// The last `width` x units, following the live edge.
  case follow(width: Double)
  /// A fixed range (after panning).
  case fixed(lo: Double, hi: Double)
}

/// The fields of the stage panel, in order.
public enum StageField: Int, CaseIterable, Sendable, Equatable {
  case dataset
  case warmup
  case lrMax
  case lrMin
  case schedule
  case replay
  /// How replay reads the earlier data: in order from its start, or spread over all of it.
  case replayOrder
  case length

  public var title: String {
    switch self {
    case .dataset: return "dataset"
    case .warmup: return "warmup"
    case .lrMax: return "η max"
    case .lrMin: return "η min"
    case .schedule: return "schedule"
    case .replay: return "replay"
    case .replayOrder: return "  reads"
    case .length: return "length"
    }
  }

  /// Whether a number can be typed into this field.
  public var isNumeric: Bool { self != .dataset && self != .schedule && self != .replayOrder }
}

/// What the user chose to see.
public struct ViewState: Sendable, Equatable {
  public var smoothing: Bool
  /// The EMA weight (0 = none, 0.99 = very smooth), TensorBoard style.
  public var smoothingWeight: Double
  public var logY: Bool
  public var xWindow: XWindow
  /// Legend entries switched off, by number (1-based): datasets for one run, runs in an overlay.
  public var hiddenSeries: Set<Int>
  /// The next-stage settings as they were when the stage panel opened: Esc puts them back.
  public var draftBeforePanel: StageSettings? = nil
  public var themeName: String
  /// The themes `t` cycles through.
  public var themeNames: [String]
  public var overlay: Overlay
  public var stageField: StageField
  /// Text typed into the focused stage-panel field, not yet applied.
  public var entryText: String
  /// An error about the last typed value, shown in the stage panel.
  public var entryError: String?
  /// The last key in the stage panel was typed text the panel refused ("nan" in η max, "wsd" in
  /// schedule): the next Enter does not start the stage but says what it would start.
  public var typingRefused = false
  /// The comparison table's sort column and direction.
  public var sortColumn: Int
  public var sortDescending: Bool
  public var helpScroll: Int
  /// In an overlay, the run drawn on top whose status and measures are shown (0-based).
  public var pinnedRun: Int = 0
  /// A hidden run that pinning showed: it is hidden again when the pin moves on.
  public var shownByPin: Int? = nil

  public init(
    smoothing: Bool = false, smoothingWeight: Double = 0.6, logY: Bool = false,
    xWindow: XWindow = .all, hiddenSeries: Set<Int> = [], themeName: String = "dark",
    themeNames: [String] = ["dark", "light", "high-contrast", "mono"], overlay: Overlay = .none,
    stageField: StageField = .dataset, entryText: String = "", entryError: String? = nil,
    sortColumn: Int = 0, sortDescending: Bool = false, helpScroll: Int = 0
  ) {
    self.smoothing = smoothing
    self.smoothingWeight = smoothingWeight
    self.logY = logY
    self.xWindow = xWindow
    self.hiddenSeries = hiddenSeries
    self.themeName = themeName
    self.themeNames = themeNames
    self.overlay = overlay
    self.stageField = stageField
    self.entryText = entryText
    self.entryError = entryError
    self.sortColumn = sortColumn
    self.sortDescending = sortDescending
    self.helpScroll = helpScroll
  }

  /// The x range to show, given the data's extent.
  public func visibleRange(extent: ClosedRange<Double>?) -> ClosedRange<Double> {
    let e = extent ?? 0...1
    switch xWindow {
    case .all:
      return e.lowerBound < e.upperBound ? e : e.lowerBound...(e.lowerBound + 1)
    case .follow(let w):
      let hi = e.upperBound
      return max(e.lowerBound, hi - w)...max(hi, e.lowerBound + 1e-9)
    case .fixed(let lo, let hi):
      return lo < hi ? lo...hi : lo...(lo + 1)
    }
  }
}
