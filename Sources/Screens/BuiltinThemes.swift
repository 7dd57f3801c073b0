// A copy of themes/*.theme compiled in, so that an installed binary without the themes/ folder
// still has its themes. ScreensTests checks that these match the files.

enum BuiltinThemes {
  static let order = ["dark", "light", "high-contrast", "mono"]

  static let text: [String: String] = [
    "dark": """
    # cptui theme: dark (the default). Format: docs/themes.md
    # role = FOREGROUND [on BACKGROUND] [bold] [dim] [reverse] [underline]
    # Colours: default, black red green yellow blue magenta cyan white, bright-NAME, or 0-255.
    # role@8 = ... gives the look on 8-colour terminals (else the nearest basic colour is used).
    name = dark
    text = 252
    text@8 = white
    muted = 244
    muted@8 = white dim
    border = 240
    border@8 = white
    title = 231 bold
    axis = 244
    axis@8 = white
    label = 248
    label@8 = white
    accent = 75
    key = 222 bold
    selection = 231 on 25 bold
    selection@8 = white on blue bold
    live = 78 bold
    paused = 214 bold
    stalled = 203 bold
    replay = 141 bold
    warning = 214
    error = 203 bold
    good = 78
    bad = 203
    marker = 180
    marker@8 = yellow
    series1 = 75
    series1@8 = cyan
    series2 = 209
    series2@8 = yellow
    series3 = 114
    series3@8 = green
    series4 = 176
    series4@8 = magenta
    series5 = 222
    series5@8 = white bold
    series6 = 80
    series6@8 = blue
    series7 = 203
    series7@8 = red
    series8 = 250
    series8@8 = white dim
    """,
    "light": """
    # cptui theme: light, dark text on a light background. Format: docs/themes.md
    name = light
    text = 235 on 255
    text@8 = black on white
    muted = 244
    muted@8 = black
    border = 248
    border@8 = black
    title = 16 bold
    axis = 243
    axis@8 = black
    label = 239
    label@8 = black
    accent = 25
    key = 130 bold
    selection = 231 on 25 bold
    selection@8 = white on blue bold
    live = 28 bold
    paused = 130 bold
    stalled = 160 bold
    replay = 91 bold
    warning = 130
    error = 160 bold
    good = 28
    bad = 160
    marker = 136
    series1 = 25
    series1@8 = blue
    series2 = 166
    series2@8 = red
    series3 = 28
    series3@8 = green
    series4 = 127
    series4@8 = magenta
    series5 = 94
    series5@8 = black bold
    series6 = 31
    series6@8 = cyan
    series7 = 160
    series7@8 = red bold
    series8 = 240
    series8@8 = black
    """,
    "high-contrast": """
    # cptui theme: high contrast, bright colours on black, bold lines. Format: docs/themes.md
    name = high-contrast
    text = 231 on 16
    text@8 = bright-white on black
    muted = 250
    border = 231
    title = 231 bold underline
    axis = 231
    label = 231
    accent = 51 bold
    key = 226 bold
    selection = 16 on 226 bold
    selection@8 = black on yellow bold
    live = 46 bold
    paused = 226 bold
    stalled = 196 bold
    replay = 201 bold
    warning = 226 bold
    error = 196 bold
    good = 46 bold
    bad = 196 bold
    marker = 226
    series1 = 51 bold
    series1@8 = cyan bold
    series2 = 226 bold
    series2@8 = yellow bold
    series3 = 46 bold
    series3@8 = green bold
    series4 = 201 bold
    series4@8 = magenta bold
    series5 = 231 bold
    series5@8 = white bold
    series6 = 196 bold
    series6@8 = red bold
    series7 = 39 bold
    series7@8 = blue bold
    series8 = 208 bold
    series8@8 = yellow
    """,
    "mono": """
    # cptui theme: monochrome, the terminal's own colours; lines told apart by attributes only.
    # Format: docs/themes.md
    name = mono
    text = default
    muted = default dim
    border = default dim
    title = default bold
    axis = default dim
    label = default
    accent = default bold
    key = default bold
    selection = default reverse
    live = default bold
    paused = default bold reverse
    stalled = default bold underline
    replay = default bold
    warning = default bold
    error = default bold underline
    good = default
    bad = default bold
    marker = default dim
    series1 = default
    series2 = default bold
    series3 = default underline
    series4 = default bold underline
    series5 = default reverse
    series6 = default dim underline
    series7 = default underline reverse
    series8 = default bold reverse
    """,
  ]
}
