"""The one matplotlib style of every figure: colour-blind-safe, legible at column width."""

# Okabe & Ito's colour-blind-safe palette; one fixed colour per encoding across figures.
ENCODING_COLOURS = {"normal": "#0072B2", "inverted": "#D55E00"}
HEATMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiencies
REFERENCE_COLOUR = "#555555"
NEVER_INKED_COLOUR = "#CC79A7"  # Okabe-Ito reddish purple: stands out on cividis

# Figures are drawn at single-column print width (3.4 in), where 7-8 pt text stays legible.
COLUMN_WIDTH = 3.4

RC = {
    "figure.figsize": (COLUMN_WIDTH, 2.5),
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.1,
    "svg.hashsalt": "polarity",  # stable element ids, so figure files only change with data
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
