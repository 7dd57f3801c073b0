// Where each part of the screen goes at a given size. Side panels are dropped first when the
// screen is narrow or short; below the minimum size only the "terminal too small" screen is shown.

import Terminal

public struct ScreenLayout: Sendable, Equatable {
  public static let minimumWidth = 40
  public static let minimumHeight = 10

  public var tooSmall: Bool
  public var status: Rect
  public var mainChart: Rect
  public var learningRate: Rect?
  public var trainLoss: Rect?
  public var settings: Rect?
  public var notice: Rect?
  public var measures: Rect
  public var hints: Rect

  /// The layout for a `width`×`height` screen with or without a notice line, and with or without
  /// the next stage's settings (not shown in replay).
  public init(width: Int, height: Int, hasNotice: Bool = false, hasSettings: Bool = true) {
    let empty = Rect(x: 0, y: 0, width: 0, height: 0)
    tooSmall = width < ScreenLayout.minimumWidth || height < ScreenLayout.minimumHeight
    status = Rect(x: 0, y: 0, width: width, height: 1)
    hints = Rect(x: 0, y: height - 1, width: width, height: 1)
    measures = Rect(x: 0, y: height - 2, width: width, height: 1)
    mainChart = empty
    guard !tooSmall else { return }
    var bottom = height - 2
    if hasNotice && height >= 16 {
      notice = Rect(x: 0, y: bottom - 1, width: width, height: 1)
      bottom -= 1
    }
    let middle = Rect(x: 0, y: 1, width: width, height: bottom - 1)
    guard width >= 80 else {
      mainChart = middle
      return
    }
    let side = min(44, max(28, width * 3 / 10))
    mainChart = Rect(x: 0, y: middle.y, width: width - side, height: middle.height)
    let sx = width - side
    let settingsHeight = hasSettings ? 9 : 0
    var y = middle.y
    let rest = middle.height - settingsHeight
    if rest >= 10 {
      let lr = rest / 2
      learningRate = Rect(x: sx, y: y, width: side, height: lr)
      y += lr
      trainLoss = Rect(x: sx, y: y, width: side, height: rest - lr)
      y += rest - lr
    } else if rest >= 5 {
      learningRate = Rect(x: sx, y: y, width: side, height: rest)
      y += rest
    } else if middle.height >= 5 && middle.height < settingsHeight {
      learningRate = Rect(x: sx, y: y, width: side, height: middle.height)
      return
    }
    if hasSettings && middle.height >= settingsHeight {
      settings = Rect(x: sx, y: y, width: side, height: settingsHeight)
    }
  }
}
