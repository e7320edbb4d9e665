"""The one matplotlib style of every figure: colour-blind-safe, legible at column width."""

# Okabe & Ito's colour-blind-safe palette; one fixed colour per encoding across figures.
ENCODING_COLOURS = {"normal": "#0072B2", "inverted": "#D55E00"}
ENCODING_LABELS = {
    "normal": "normal (ink 1, background 0)",
    "inverted": "inverted (ink 0, background 1)",
}
HEATMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiencies
REFERENCE_COLOUR = "#555555"
NEVER_INKED_COLOUR = "#CC79A7"  # Okabe-Ito reddish purple: stands out on cividis

RC = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.4,
    "svg.hashsalt": "polarity",  # stable element ids, so figure files only change with data
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
