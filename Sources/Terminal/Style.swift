// What a cell looks like, said as a role ("this is an axis label") rather than a colour. A theme
// (Screens) turns roles into colours and attributes; the curses backend turns those into colour pairs.

/// The role of a cell. Themes give each role a foreground, a background and attributes.
public enum ColorRole: UInt8, CaseIterable, Sendable, Hashable {
  case text
  case muted
  case border
  case title
  case axis
  case label
  case accent
  case key
  case selection
  case live
  case paused
  case stalled
  case replay
  case warning
  case error
  case good
  case bad
  case marker
  case series1
  case series2
  case series3
  case series4
  case series5
  case series6
  case series7
  case series8

  /// The role's name in theme files (`series1`, `text`, …).
  public var name: String { String(describing: self) }

  /// Looks a role up by its theme-file name.
  public init?(name: String) {
    guard let role = ColorRole.allCases.first(where: { $0.name == name }) else { return nil }
    self = role
  }

  /// The series roles in order; series `i` (0-based) uses `seriesRoles[i % 8]`.
  public static let seriesRoles: [ColorRole] = [
    .series1, .series2, .series3, .series4, .series5, .series6, .series7, .series8,
  ]
}

/// Text attributes, a small bit set.
public struct TextAttributes: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public static let bold = TextAttributes(rawValue: 1)
  public static let dim = TextAttributes(rawValue: 2)
  public static let reverse = TextAttributes(rawValue: 4)
  public static let underline = TextAttributes(rawValue: 8)
}

/// The style of one cell: a colour role plus attributes added to what the theme gives the role.
public struct Style: Sendable, Hashable {
  public var role: ColorRole
  public var attributes: TextAttributes

  public init(_ role: ColorRole = .text, _ attributes: TextAttributes = []) {
    self.role = role
    self.attributes = attributes
  }

  public static let plain = Style()

  public func adding(_ extra: TextAttributes) -> Style {
    Style(role, attributes.union(extra))
  }
}

/// A terminal colour: the terminal's default, or an index into the 256-colour palette
/// (0–7 the basic colours, 8–15 their bright versions).
public enum TermColor: Sendable, Hashable {
  case terminalDefault
  case index(UInt8)

  /// The nearest of the 8 basic colours (for terminals with fewer than 256 colours).
  public var basic: TermColor {
    guard case .index(let i) = self else { return self }
    if i < 8 { return self }
    if i < 16 { return .index(i - 8) }
    let (r, g, b): (Int, Int, Int)
    if i >= 232 {
      let level = 8 + Int(i - 232) * 10
      (r, g, b) = (level, level, level)
    } else {
      let c = Int(i) - 16
      let steps = [0, 95, 135, 175, 215, 255]
      (r, g, b) = (steps[c / 36], steps[(c / 6) % 6], steps[c % 6])
    }
    // The basic colours as most terminals draw them.
    let basics: [(Int, Int, Int)] = [
      (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
      (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    ]
    var best = 0
    var bestDistance = Int.max
    for (k, (br, bg, bb)) in basics.enumerated() {
      let d = (r - br) * (r - br) + (g - bg) * (g - bg) + (b - bb) * (b - bb)
      if d < bestDistance {
        bestDistance = d
        best = k
      }
    }
    return .index(UInt8(best))
  }
}

/// How a theme draws one role.
public struct RoleStyle: Sendable, Hashable {
  public var foreground: TermColor
  public var background: TermColor
  public var attributes: TextAttributes
  /// Optional colours for 8-colour terminals; when nil, the nearest basic colour is used.
  public var foreground8: TermColor?
  public var background8: TermColor?
  /// Optional attributes for 8-colour terminals; when nil, `attributes`.
  public var attributes8: TextAttributes?

  public init(
    foreground: TermColor = .terminalDefault, background: TermColor = .terminalDefault,
    attributes: TextAttributes = [], foreground8: TermColor? = nil, background8: TermColor? = nil,
    attributes8: TextAttributes? = nil
  ) {
    self.foreground = foreground
    self.background = background
    self.attributes = attributes
    self.foreground8 = foreground8
    self.background8 = background8
    self.attributes8 = attributes8
  }
}

/// Every role's look: what the backend needs to set up colour pairs.
public struct Palette: Sendable, Hashable {
  public var roles: [ColorRole: RoleStyle]

  public init(roles: [ColorRole: RoleStyle] = [:]) { self.roles = roles }

  public subscript(role: ColorRole) -> RoleStyle {
    roles[role] ?? roles[.text] ?? RoleStyle()
  }

  /// No colours; series told apart by attributes only.
  public static let monochrome = Palette(roles: [
    .title: RoleStyle(attributes: .bold), .muted: RoleStyle(attributes: .dim),
    .selection: RoleStyle(attributes: .reverse), .key: RoleStyle(attributes: .bold),
    .warning: RoleStyle(attributes: .bold), .error: RoleStyle(attributes: [.bold, .underline]),
    .series2: RoleStyle(attributes: .bold),
  ])
}
